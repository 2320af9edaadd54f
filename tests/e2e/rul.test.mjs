// End-to-end test of the remaining-useful-life task: the NASA FD001 demo
// trains in the page (a tiny model, on the CPU) and shows the fleet view,
// a unit's chart and the scores; a RUL model refuses a fleet that lacks its
// sensors and names them.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ARTIFACTS, COLORS, byId, canvasHash, countColor, setNumbers, start, text } from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

/** Opens the page on the FD001 demo and waits for its three files. */
async function openFleetDemo() {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  await page.goto(env.url + "?demo=fd001");
  await page.waitForFunction(
    () => /100 unit\(s\) by/.test(document.querySelector('[data-testid="data-report"]')?.textContent ?? ""),
    null,
    { timeout: 60_000 },
  );
  await page.waitForFunction(
    () => !/checking/.test(document.querySelector('[data-testid="backend-label"]').textContent),
    null,
    { timeout: 60_000 },
  );
  return { page, problems };
}

test("the FD001 demo trains in the page and shows the fleet, a unit and the scores", async () => {
  const { page, problems } = await openFleetDemo();
  assert.equal(await page.inputValue(byId("task-select")), "rul");
  assert.equal(await page.inputValue(byId("demo-select")), "fd001");
  const credit = (await page.innerText(byId("attribution"))).replace(/\s+/g, " ");
  assert.match(credit, /NASA Ames Prognostics Data Repository/);
  assert.doesNotMatch(credit, /ETTh2/);
  const report = await text(page, "data-report");
  assert.match(report, /Training fleet/);
  assert.match(report, /Test fleet/);
  assert.match(report, /RUL_FD001\.txt, 100 value/);
  assert.equal(await page.isVisible(byId("forecast-chart")), false);
  assert.equal(await page.isVisible(byId("rul-chart")), true);
  const sensors = await page.$$eval(`${byId("sensor-select")} option:checked`, (o) => o.map((x) => x.value));
  assert.ok(sensors.length >= 14, `sensors ${sensors}`);
  // The engine's age (its cycle column) is an input by default.
  const labels = await page.$$eval(`${byId("sensor-select")} option:checked`, (o) => o.map((x) => x.textContent));
  assert.ok(labels.some((label) => /age in cycles/.test(label)), `inputs ${labels}`);
  // The default reads each unit's whole history (window 0).
  assert.equal(await page.inputValue(byId("window-input")), "0");
  assert.equal(await page.inputValue(byId("cap-input")), "125");

  await setNumbers(page, { "epochs-input": 1, "hidden-input": 8 });
  await page.click(byId("train-button"));
  await page.waitForFunction(
    (selector) => /RMSE/.test(document.querySelector(selector)?.textContent ?? ""),
    byId("rul-metrics"),
    { timeout: 600_000 },
  );

  // Scores: RMSE, MAE and the PHM08 score, capped and as given.
  const cells = await page.$$eval(`${byId("rul-metrics")} td`, (c) => c.map((x) => x.textContent));
  const numbers = cells.slice(0, 6).map(Number);
  assert.ok(numbers.every((n) => Number.isFinite(n) && n > 0), `metrics: ${cells}`);
  assert.ok(numbers[0] < 60, `RMSE ${numbers[0]} after one epoch`);

  // The fleet view: 100 units, the most urgent first.
  const rows = await page.$$eval(`${byId("rul-fleet")} tr[data-unit-index]`, (trs) =>
    trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.equal(rows.length, 100);
  const predicted = rows.map((row) => Number(row[3]));
  assert.ok(predicted.every((p, i) => i === 0 || predicted[i - 1] <= p), "not ranked");
  assert.deepEqual(rows.map((row) => Number(row[0])), [...Array(100).keys()].map((i) => i + 1));

  // The chart of the most urgent unit, then another one picked in the table.
  assert.ok((await countColor(page, "rul-chart", COLORS.forecast)) > 100, "no predicted RUL line");
  const before = await canvasHash(page, "rul-chart");
  const firstUnit = await page.$eval(`${byId("rul-unit-select")} option:checked`, (o) => o.textContent);
  assert.equal(firstUnit, `Unit ${rows[0][1]}`);
  await page.click(`${byId("rul-fleet")} tr[data-unit-index] >> nth=50`);
  const picked = await page.$eval(`${byId("rul-unit-select")} option:checked`, (o) => o.textContent);
  assert.equal(picked, `Unit ${rows[50][1]}`);
  assert.notEqual(await canvasHash(page, "rul-chart"), before);

  await page.screenshot({ path: join(ARTIFACTS, "rul-trained.png"), fullPage: true });

  // The model refuses a fleet that lacks its sensors, and says which.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(byId("model-download"))]);
  const modelPath = join(ARTIFACTS, "fd001-rul.twinlab");
  await download.saveAs(modelPath);
  const pumps = join(ARTIFACTS, "pumps.csv");
  await writeFile(pumps, "unit,cycle,col7,vibration\n1,1,642.1,0.3\n1,2,642.3,0.4\n2,1,641.9,0.2\n");
  await page.setInputFiles(byId("test-fleet-input"), pumps);
  await page.waitForFunction((selector) => /pumps\.csv/.test(document.querySelector(selector).textContent), byId("data-report"));
  await page.setInputFiles(byId("model-input"), modelPath);
  await page.waitForFunction((selector) => !document.querySelector(selector).hidden, byId("error-message"));
  const error = await text(page, "error-message");
  assert.match(error, /does not fit `pumps\.csv`/);
  assert.match(error, /lacks the channel\(s\) `col8`/);

  // A broken fleet file gets a message and changes nothing.
  const reportBefore = await text(page, "data-report");
  await page.setInputFiles(byId("test-fleet-input"), {
    name: "broken.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("unit cycle s1\n1 1 5\n1.5 2 6\n"),
  });
  await page.waitForFunction((selector) => /broken\.txt/.test(document.querySelector(selector).textContent), byId("error-message"));
  assert.match(await text(page, "error-message"), /line 3: the unit id `1\.5`/);
  assert.equal(await text(page, "data-report"), reportBefore);
  assert.deepEqual(problems, []);
  await page.close();
});
