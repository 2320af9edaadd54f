// End-to-end tests of the page built by `trunk build --release`, served
// from dist/ under the sub-path /twinlab/ and driven in headless Chromium
// without WebGPU (so the CPU path runs).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  ARTIFACTS,
  COLORS,
  FIXTURES,
  byId,
  canvasHash,
  countColor,
  openApp,
  setNumbers,
  start,
  text,
  waitForMetrics,
} from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

/** Loads the sine fixture and trains a tiny model on it. */
async function trainOnSine(page, { epochs = 3 } = {}) {
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction(
    (selector) => document.querySelector(selector).textContent.includes("sine.csv"),
    byId("data-report"),
  );
  await page.selectOption(byId("target-select"), ["temp"]);
  await setNumbers(page, {
    "lookback-input": 16,
    "horizon-input": 4,
    "epochs-input": epochs,
    "hidden-input": 8,
  });
  await page.click(byId("train-button"));
  return waitForMetrics(page);
}

test("the page opens under a sub-path with the demo loaded and says it runs on the CPU", async () => {
  const { page, problems } = await openApp(env);

  const report = await text(page, "data-report");
  assert.match(report, /ETTh2\.csv/);
  assert.match(report, /17420 rows × 8 columns/);
  assert.match(report, /17420 rows ready/);
  assert.match(await text(page, "attribution"), /CC BY-ND 4\.0/);
  assert.match(await text(page, "backend-label"), /^CPU \(flex\): /);
  assert.equal(await page.inputValue(byId("lookback-input")), "48");
  assert.deepEqual(
    await page.$$eval(`${byId("target-select")} option:checked`, (options) => options.map((o) => o.value)),
    ["OT"],
  );
  assert.equal(await page.isHidden(byId("error-message")), true);

  await page.screenshot({ path: join(ARTIFACTS, "page-opened.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("training on an uploaded CSV shows progress, loss, forecast and metrics", async () => {
  const { page, problems } = await openApp(env);

  const metrics = await trainOnSine(page);
  assert.match(metrics, /temp \(original units\)/);
  assert.match(metrics, /All targets \(z-score\)/);
  const numbers = await page.$$eval(`${byId("metrics-table")} td`, (cells) => cells.map((c) => Number(c.textContent)));
  assert.equal(numbers.length, 8);
  assert.ok(numbers.every((n) => Number.isFinite(n) && n >= 0), `metrics: ${numbers}`);

  const progress = await page.$eval(byId("progress"), (bar) => [bar.value, bar.max]);
  assert.ok(progress[1] > 1, `progress max ${progress[1]}`);
  assert.equal(progress[0], progress[1]);

  assert.ok((await countColor(page, "loss-chart", COLORS.train)) > 50, "no training-loss line");
  assert.ok((await countColor(page, "forecast-chart", COLORS.forecast)) > 50, "no forecast line");
  assert.match(await text(page, "status"), /kept epoch \d|kept the starting weights/);
  assert.match(await text(page, "backend-label"), /CPU \(flex\)/);
  assert.equal(await page.isVisible(byId("model-download")), true);

  await page.screenshot({ path: join(ARTIFACTS, "page-trained.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("Stop ends training early and keeps a usable model", async () => {
  const { page } = await openApp(env);
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction(
    (selector) => document.querySelector(selector).textContent.includes("sine.csv"),
    byId("data-report"),
  );
  await setNumbers(page, { "lookback-input": 16, "horizon-input": 4, "epochs-input": 500, "hidden-input": 8 });
  await page.click(byId("train-button"));
  await page.waitForFunction((selector) => document.querySelector(selector).value > 0, byId("progress"));
  assert.equal(await page.isEnabled(byId("stop-button")), true);
  await page.click(byId("stop-button"));

  await waitForMetrics(page);
  assert.match(await text(page, "status"), /^Stopped after \d+ full epoch/);
  assert.equal(await page.isEnabled(byId("train-button")), true);
  await page.close();
});

test("a downloaded model loads again, and a model that does not fit the data is refused", async () => {
  const { page, problems } = await openApp(env);
  const firstMetrics = await trainOnSine(page, { epochs: 2 });

  const [download] = await Promise.all([page.waitForEvent("download"), page.click(byId("model-download"))]);
  assert.match(download.suggestedFilename(), /^sine-temp\.twinlab$/);
  const modelPath = join(ARTIFACTS, download.suggestedFilename());
  await download.saveAs(modelPath);
  assert.equal((await readFile(modelPath)).subarray(0, 7).toString(), "TWINLAB");

  // The same data again: the same scores.
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction((selector) => document.querySelector(selector).textContent === "", byId("metrics-table"));
  await page.setInputFiles(byId("model-input"), modelPath);
  assert.equal(await waitForMetrics(page), firstMetrics);
  assert.match(await text(page, "status"), /^Loaded a model trained on sine\.csv/);

  // The NAB demo has no `temp` channel.
  await page.selectOption(byId("demo-select"), "nab");
  await page.waitForFunction(
    (selector) => document.querySelector(selector).textContent.includes("machine_temperature"),
    byId("data-report"),
  );
  await page.setInputFiles(byId("model-input"), modelPath);
  await page.waitForFunction((selector) => !document.querySelector(selector).hidden, byId("error-message"));
  const error = await text(page, "error-message");
  assert.match(error, /does not fit `machine_temperature_system_failure\.csv`/);
  assert.match(error, /no channel `temp`/);
  assert.equal(await text(page, "metrics-table"), "");
  assert.deepEqual(problems, []);
  await page.close();
});

test("bad files get a message and leave the dataset, model and charts as they were", async () => {
  const { page } = await openApp(env, "?max_mb=1");
  await trainOnSine(page, { epochs: 1 });

  const before = {
    report: await text(page, "data-report"),
    metrics: await text(page, "metrics-table"),
    forecast: await canvasHash(page, "forecast-chart"),
    loss: await canvasHash(page, "loss-chart"),
  };
  const big = Buffer.alloc(1024 * 1024 + 10, "1,2\n");
  const cases = [
    [join(FIXTURES, "empty.csv"), /`empty\.csv`: the file is empty/],
    [join(FIXTURES, "binary.dat"), /`binary\.dat`: line \d+: .*(binary|UTF-8)/],
    [join(FIXTURES, "one-row.csv"), /`one-row\.csv`: .*only 1 data row/],
    [join(FIXTURES, "no-numeric.csv"), /`no-numeric\.csv`: no numeric column/],
    [{ name: "big.csv", mimeType: "text/csv", buffer: big }, /`big\.csv`: the file is 1\.0 MiB .*larger than the allowed 1\.0 MiB/],
  ];
  for (const [file, expected] of cases) {
    await page.evaluate((selector) => {
      const box = document.querySelector(selector);
      box.textContent = "";
      box.hidden = true;
    }, byId("error-message"));
    await page.setInputFiles(byId("dataset-input"), file);
    await page.waitForFunction((selector) => !document.querySelector(selector).hidden, byId("error-message"));
    const message = await text(page, "error-message");
    assert.match(message, expected);

    assert.equal(await text(page, "data-report"), before.report, `report changed after ${message}`);
    assert.equal(await text(page, "metrics-table"), before.metrics);
    assert.equal(await canvasHash(page, "forecast-chart"), before.forecast);
    assert.equal(await canvasHash(page, "loss-chart"), before.loss);
    assert.equal(await page.inputValue(byId("demo-select")), "file");
  }
  await page.screenshot({ path: join(ARTIFACTS, "page-bad-file.png"), fullPage: true });
  await page.close();
});
