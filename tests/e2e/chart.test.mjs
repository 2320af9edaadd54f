// End-to-end test of the forecast chart's evidence and interaction: the
// baseline table and verdict, wheel zoom and drag pan, the crosshair
// tooltip, hiding a series, and the PNG and CSV exports.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  ARTIFACTS, COLORS, FIXTURES, byId, canvasHash, countColor, openApp, setNumbers, start, text, waitForMetrics,
} from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("the chart shows the baselines, zooms, pans, reads out values, hides series and exports", async () => {
  const { page, problems } = await openApp(env);
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await page.waitForFunction((s) => document.querySelector(s).textContent.includes("sine.csv"), byId("data-report"));
  await page.selectOption(byId("target-select"), ["temp"]);
  await setNumbers(page, { "lookback-input": 16, "horizon-input": 4, "epochs-input": 3, "hidden-input": 8 });
  await page.click(byId("train-button"));
  await waitForMetrics(page);

  // Every baseline on the same windows, and a plain verdict.
  const rows = await page.$$eval(`${byId("baseline-table")} tr`, (trs) =>
    trs.slice(1).map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), [
    "LSTM", "persistence (last value)", "seasonal naive", "drift", "linear autoregression",
  ]);
  assert.ok(rows.every((r) => Number.isFinite(Number(r[1])) && Number(r[1]) >= 0), `${rows}`);
  assert.match(await text(page, "verdict"), /^The LSTM (beats every baseline|is not better than)/);
  assert.ok((await countColor(page, "forecast-chart", COLORS.forecast)) > 50);

  const canvas = await page.$(byId("forecast-chart"));
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const tableRows = async () => page.$$eval(`${byId("forecast-table")} tr`, (trs) => trs.length);
  const fullRows = await tableRows();
  assert.ok(fullRows > 10, `table rows ${fullRows}`);

  // Wheel zoom around the middle: fewer rows shown, a different picture.
  const before = await canvasHash(page, "forecast-chart");
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 4; i += 1) await page.mouse.wheel(0, -300);
  await page.waitForFunction(
    ([selector, n]) => document.querySelectorAll(`${selector} tr`).length < n,
    [byId("forecast-table"), fullRows],
  );
  const zoomedRows = await tableRows();
  assert.ok(zoomedRows < fullRows / 2, `zoomed ${zoomedRows} of ${fullRows}`);
  assert.notEqual(await canvasHash(page, "forecast-chart"), before);
  const firstZoomed = await page.$eval(`${byId("forecast-table")} tr:nth-child(2) td`, (td) => td.textContent);

  // Drag to the left pans to later times.
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const firstPanned = await page.$eval(`${byId("forecast-table")} tr:nth-child(2) td`, (td) => td.textContent);
  // Times are `YYYY-MM-DD HH:MM`, which sort as text.
  assert.ok(firstPanned > firstZoomed, `pan: ${firstZoomed} → ${firstPanned}`);

  // The tooltip reads out the time, actual, forecast, interval and residual.
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForFunction((s) => !document.querySelector(s).hidden, byId("chart-tooltip"));
  const tip = await page.innerText(byId("chart-tooltip"));
  assert.match(tip, /^\d{4}-\d\d-\d\d \d\d:\d\d\n/);
  assert.match(tip, /actual: -?\d/);
  assert.match(tip, /LSTM forecast: -?\d/);
  assert.match(tip, /residual: -?\d/);

  // Hiding the forecast removes its colour from the chart and its column.
  await page.uncheck(byId("legend-forecast"));
  assert.equal(await countColor(page, "forecast-chart", COLORS.forecast, 10), 0);
  const header = await page.$$eval(`${byId("forecast-table")} tr:first-child th`, (th) => th.map((x) => x.textContent));
  assert.ok(!header.includes("LSTM forecast"), `${header}`);
  await page.check(byId("legend-forecast"));

  // Exports: a PNG image and the shown data as CSV.
  const shownRows = await tableRows();
  const [png] = await Promise.all([page.waitForEvent("download"), page.click(byId("chart-export-png"))]);
  const pngPath = join(ARTIFACTS, png.suggestedFilename());
  await png.saveAs(pngPath);
  const pngBytes = await readFile(pngPath);
  assert.deepEqual([...pngBytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const [csv] = await Promise.all([page.waitForEvent("download"), page.click(byId("chart-export-csv"))]);
  const csvPath = join(ARTIFACTS, csv.suggestedFilename());
  await csv.saveAs(csvPath);
  const lines = (await readFile(csvPath, "utf8")).trim().split("\n");
  assert.equal(lines[0], 'time_utc,"actual","LSTM forecast","persistence","90% interval lower","90% interval upper"');
  assert.equal(lines.length, shownRows);

  // Reset shows everything again; the keyboard zooms too.
  await page.click(byId("chart-reset"));
  assert.equal(await tableRows(), fullRows);
  await page.focus(byId("forecast-chart"));
  await page.keyboard.press("+");
  await page.keyboard.press("+");
  assert.ok((await tableRows()) < fullRows);
  await page.keyboard.press("0");
  assert.equal(await tableRows(), fullRows);

  await page.screenshot({ path: join(ARTIFACTS, "chart-interaction.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
