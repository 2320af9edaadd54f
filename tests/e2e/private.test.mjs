// End-to-end test of privacy: during a whole session (the live twin, then
// training and charting an uploaded file) the page, its workers and its
// data requests never leave the page's own origin, and the page's
// Content-Security-Policy (no eval, this origin only) reports no violation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { FIXTURES, byId, setNumbers, start } from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("no request leaves the page's origin and the CSP is never violated", async () => {
  const page = await env.browser.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.violatedDirective}: ${event.blockedURI}`);
    });
  });
  await page.goto(env.url);

  // The twin runs on the simulator; then the NAB replay fetches its files.
  await page.waitForFunction((selector) => /Healthy|Commissioning/.test(document.querySelector(selector).textContent), byId("twin-state"), { timeout: 60_000 });
  await page.selectOption(byId("twin-source"), "nab");
  await page.waitForFunction((selector) => / of \d+/.test(document.querySelector(selector).textContent), byId("twin-position"), { timeout: 60_000 });

  // The Forecast task: upload, train, chart.
  await page.selectOption(byId("task-select"), "forecast");
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction((selector) => /sine\.csv/.test(document.querySelector(selector).textContent), byId("data-report"));
  await setNumbers(page, { "epochs-input": 1, "hidden-input": 8 });
  await page.click(byId("train-button"));
  await page.waitForFunction((selector) => /RMSE/.test(document.querySelector(selector).textContent), byId("metrics-table"), { timeout: 300_000 });

  const origin = new URL(env.url).origin;
  const outside = requests.filter((url) => !url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:"));
  assert.deepEqual(outside, [], "requests outside the page's origin");
  assert.ok(requests.some((url) => url.endsWith("/twinlab_bg.wasm")), "the wasm was not seen");
  assert.ok(requests.some((url) => url.endsWith("/combined_windows.json")), "the NAB label file was not seen");
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(problems, []);
  await page.close();
});
