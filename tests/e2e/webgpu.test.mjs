// The WebGPU path of the page's own build agrees with the CPU path: under
// Chromium's software WebGPU adapter (SwiftShader), `compare_backends()`
// runs one tiny seeded network on both and compares the forecasts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ARTIFACTS, openApp, start, text } from "./browser.mjs";

let env;
before(async () => {
  env = await start({ webgpu: true });
});
after(async () => {
  await env?.stop();
});

test("WebGPU and the CPU give the same forecast", async (t) => {
  const { page, problems } = await openApp(env);
  const hasAdapter = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
  if (!hasAdapter) {
    t.skip("this Chromium offers no WebGPU adapter, even with the SwiftShader flags");
    await page.close();
    return;
  }

  assert.match(await text(page, "backend-label"), /^WebGPU \(/);
  const report = await page.evaluate(() => window.wasmBindings.compare_backends());
  console.log("compare_backends:", JSON.stringify(report));
  assert.equal(report.webgpu, true, `WebGPU did not run: ${report.reason}`);
  assert.equal(report.values, 16);
  assert.ok(report.max_abs_diff < report.tolerance, `difference ${report.max_abs_diff}`);
  assert.equal(report.tolerance, 1e-4);

  await page.screenshot({ path: join(ARTIFACTS, "page-webgpu.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
