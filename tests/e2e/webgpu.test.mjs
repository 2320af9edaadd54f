// The WebGPU path agrees with the CPU path: under Chromium's software
// WebGPU adapter (SwiftShader), the page's backend check makes the
// training worker (which loaded the WebGPU module) run one tiny seeded
// network on both and compare the forecasts. And
// when the WebGPU device is lost (destroyed through the page's test hook),
// the page goes on on the CPU with its data, model and twin intact.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ARTIFACTS, FIXTURES, byId, openApp, setNumbers, start, text, waitForMetrics } from "./browser.mjs";

let env;
before(async () => {
  env = await start({ webgpu: true });
});
after(async () => {
  await env?.stop();
});

/** Whether Chromium offers a WebGPU adapter; skips the test (and closes the page) when not. */
async function hasAdapter(t, page) {
  const found = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  if (!found) {
    t.skip("this Chromium offers no WebGPU adapter, even with the SwiftShader flags");
    await page.close();
  }
  return found;
}

test("WebGPU and the CPU give the same forecast", async (t) => {
  const { page, problems } = await openApp(env);
  if (!(await hasAdapter(t, page))) return;

  assert.match(await text(page, "backend-label"), /^WebGPU \(/);
  // The page's own module has no WebGPU code: the training worker loaded
  // the WebGPU module, and the page never did.
  const loaded = await page.evaluate(() => performance.getEntriesByType("resource").map((entry) => entry.name));
  assert.ok(!loaded.some((name) => name.includes("twinlab_gpu")), `the page fetched ${loaded.join(", ")}`);
  assert.equal(await page.evaluate(() => typeof window.wasmBindings.compare_backends), "function");
  const pageOnly = await page.evaluate(() => window.wasmBindings.compare_backends());
  assert.equal(pageOnly.webgpu, false);

  // The check runs in the training worker, on both backends.
  await page.click(byId("check-backends-button"));
  await page.waitForFunction((selector) => /agrees with|DISAGREES|No WebGPU|failed/.test(document.querySelector(selector).textContent), byId("backend-check"), { timeout: 120_000 });
  const check = await text(page, "backend-check");
  console.log("backend check:", check);
  assert.match(check, /^WebGPU \(.*\) agrees with the CPU: largest difference .* over 16 values \(tolerance 1e-4\)/);

  await page.screenshot({ path: join(ARTIFACTS, "page-webgpu.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("when the WebGPU device is lost the page goes on on the CPU, losing nothing", async (t) => {
  const { page, problems } = await openApp(env, "?simulate=gpu-loss");
  if (!(await hasAdapter(t, page))) return;
  assert.match(await text(page, "backend-label"), /^WebGPU \(/);
  // The twin runs beside (in its own worker, on the CPU).
  await page.selectOption(byId("task-select"), "twin");
  await page.waitForFunction((selector) => parseInt(document.querySelector(selector).textContent, 10) > 0, byId("twin-position"), { timeout: 60_000 });
  await page.selectOption(byId("task-select"), "forecast");

  // Train on WebGPU and keep the model file.
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction((selector) => document.querySelector(selector).textContent.includes("sine.csv"), byId("data-report"));
  await page.selectOption(byId("target-select"), ["temp"]);
  await setNumbers(page, { "lookback-input": 16, "horizon-input": 4, "epochs-input": 2, "hidden-input": 8 });
  await page.click(byId("train-button"));
  const gpuMetrics = await waitForMetrics(page);
  assert.match(await text(page, "status"), /Ran on WebGPU/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(byId("model-download"))]);
  const modelPath = join(ARTIFACTS, "gpu-loss.twinlab");
  await download.saveAs(modelPath);
  const twinBefore = Number((await text(page, "twin-position")).split(" ")[0]);

  // The device goes away; the next job fails on it and runs on the CPU.
  await page.click(byId("simulate-gpu-loss"));
  await page.waitForFunction((selector) => document.querySelector(selector).disabled, byId("simulate-gpu-loss"));
  await page.setInputFiles(byId("model-input"), modelPath);
  await page.waitForFunction(
    (selector) => /WebGPU was lost/.test(document.querySelector(selector).textContent),
    byId("backend-check"),
    { timeout: 240_000 },
  );
  await page.waitForFunction((selector) => /^Loaded a model/.test(document.querySelector(selector).textContent), byId("status"), { timeout: 240_000 });
  assert.match(await text(page, "status"), /Ran on CPU/);
  assert.equal(await page.inputValue(byId("backend-select")), "cpu");
  // The same weights score the same on the CPU.
  assert.equal(await text(page, "metrics-table"), gpuMetrics);
  // The data is still loaded and training works on the CPU.
  assert.match(await text(page, "data-report"), /sine\.csv/);
  await page.click(byId("train-button"));
  await page.waitForFunction(
    (selector) => /^(Trained for|Stopped early)/.test(document.querySelector(selector).textContent),
    byId("status"),
    { timeout: 240_000 },
  );
  assert.match(await text(page, "status"), /Ran on CPU/);
  // The twin never stopped.
  const twinAfter = Number((await text(page, "twin-position")).split(" ")[0]);
  assert.ok(twinAfter > twinBefore, `the twin moved on: ${twinBefore} → ${twinAfter}`);
  console.log(`gpu loss: ${await text(page, "backend-check")}`);

  await page.screenshot({ path: join(ARTIFACTS, "gpu-loss.png"), fullPage: true });
  // The loss itself is logged as an error by the GPU runtime; nothing else.
  const unexpected = problems.filter((line) => !/lost|destroy|wgpu|WebGPU|device/i.test(line));
  assert.deepEqual(unexpected, []);
  await page.close();
});
