// End-to-end test of offline use: after one visit the service worker has
// cached the app and its demos; with the network switched off and the
// server stopped, a reload
// still opens the page, runs the live twin, loads the ETTh2 demo, trains
// and draws the forecast.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ARTIFACTS, byId, setNumbers, start, text } from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("after one visit the page works with the network off", async () => {
  const context = await env.browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(`${env.url}?task=forecast`);
  await page.waitForFunction(() => /rows ready/.test(document.querySelector('[data-testid="data-report"]')?.textContent ?? ""), null, { timeout: 60_000 });

  // The service worker is active and has cached the app and the demos.
  const cached = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const cache = await caches.open("twinlab-v1");
    return { active: Boolean(registration.active), files: (await cache.keys()).map((r) => new URL(r.url).pathname) };
  });
  assert.ok(cached.active, "no active service worker");
  for (const file of ["twinlab_bg.wasm", "twinlab.js", "worker.js", "ETTh2.csv", "combined_windows.json"]) {
    assert.ok(cached.files.some((path) => path.endsWith(file)), `${file} not cached: ${cached.files}`);
  }

  // No network: the browser is offline and the server is gone.
  await context.setOffline(true);
  await env.server.close();
  await page.reload();
  await page.waitForFunction(() => /rows ready/.test(document.querySelector('[data-testid="data-report"]')?.textContent ?? ""), null, { timeout: 60_000 });
  assert.match(await text(page, "data-report"), /ETTh2\.csv/);

  // Train a tiny model on the demo and see the forecast, offline.
  await setNumbers(page, { "epochs-input": 1, "hidden-input": 8, "lookback-input": 24, "horizon-input": 6 });
  await page.click(byId("train-button"));
  await page.waitForFunction((selector) => /RMSE/.test(document.querySelector(selector).textContent), byId("metrics-table"), { timeout: 300_000 });

  // The live twin starts offline too.
  await page.selectOption(byId("task-select"), "twin");
  await page.waitForFunction((selector) => /Commissioning|Healthy/.test(document.querySelector(selector).textContent), byId("twin-state"), { timeout: 60_000 });
  await page.screenshot({ path: join(ARTIFACTS, "offline.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});
