// End-to-end test of the live twin, the task the page opens on: the
// simulated pump commissions and runs healthy; a drift injected into its
// vibration sensor takes the state out of Healthy, and the event log says
// why. Then the operator acknowledges, and the log exports as CSV.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ARTIFACTS, COLORS, byId, canvasHash, countColor, start, text } from "./browser.mjs";

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

/** Waits until the state badge matches `pattern`. */
async function waitForState(page, pattern, timeout = 120_000) {
  await page.waitForFunction(
    ([selector, source]) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ""),
    [byId("twin-state"), pattern.source],
    { timeout },
  );
}

test("the simulator twin leaves Healthy after a drift fault and the log says why", async () => {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(env.url);

  // The page opens on the twin of the simulated pump, already running.
  await page.waitForFunction((selector) => !/starting/.test(document.querySelector(selector).textContent), byId("twin-state"), { timeout: 60_000 });
  assert.equal(await page.inputValue(byId("task-select")), "twin");
  assert.equal(await page.inputValue(byId("twin-source")), "sim");
  assert.equal(await page.isVisible(byId("replay-controls")), true);
  assert.equal(await page.isVisible(byId("fault-controls")), true);
  assert.equal(await page.isVisible(byId("train-button")), false);
  await page.selectOption(byId("twin-speed"), "10000");
  await waitForState(page, /^Healthy$/);
  const chartBefore = await canvasHash(page, "twin-chart");

  // Inject a vibration drift of 3 mm/s per hour.
  await page.selectOption(byId("fault-kind"), "drift");
  await page.selectOption(byId("fault-channel"), "vibration_mm_s");
  await page.fill(byId("fault-magnitude"), "3");
  await page.fill(byId("fault-duration"), "3000");
  await page.click(byId("fault-inject"));
  await page.waitForFunction((selector) => /Injected a drift of vibration/.test(document.querySelector(selector).textContent), byId("twin-note"));
  await waitForState(page, /^(Watch|Warning|Critical|Failed)$/);
  const state = await text(page, "twin-state");

  // The event log explains the change, in words, naming the channel.
  const rows = await page.$$eval(`${byId("twin-events")} tr`, (trs) =>
    trs.slice(1).map((tr) => [...tr.children].map((c) => c.textContent)));
  const left = rows.find((row) => row[1] === "Healthy" && row[2] !== "Healthy");
  assert.ok(left, `no event leaving Healthy in ${JSON.stringify(rows.slice(0, 5))}`);
  assert.match(left[4], /vibration/);
  assert.notEqual(await canvasHash(page, "twin-chart"), chartBefore, "the chart did not move");

  // Pause: the position stops; a single step moves it by one.
  await page.click(byId("twin-pause"));
  await page.waitForFunction((selector) => /paused/.test(document.querySelector(selector).textContent), byId("twin-position"));
  const paused = await text(page, "twin-position");
  await page.click(byId("twin-step"));
  await page.waitForFunction(
    ([selector, before]) => document.querySelector(selector).textContent !== before,
    [byId("twin-position"), paused],
  );
  const stepped = Number((await text(page, "twin-position")).split(" ")[0]);
  assert.equal(stepped, Number(paused.split(" ")[0]) + 1);

  // The operator acknowledges the alarm; the log records it.
  if (/unacknowledged/.test(await text(page, "twin-alarm"))) {
    await page.click(byId("twin-ack"));
    await page.waitForFunction((selector) => /acknowledged by the operator/.test(document.querySelector(selector).textContent), byId("twin-events"));
  }

  // The event log exports as CSV with a header.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(byId("twin-export-csv"))]);
  const path = join(ARTIFACTS, "twin-events.csv");
  await download.saveAs(path);
  const csv = await readFile(path, "utf8");
  assert.match(csv.split("\n")[0], /time/);
  assert.match(csv, /vibration/);

  await page.screenshot({ path: join(ARTIFACTS, "twin-drift.png"), fullPage: true });
  assert.deepEqual(problems, [], `state ${state}`);
  await page.close();
});

test("the NAB replay shows its labelled windows and can seek", async () => {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(env.url);
  await page.selectOption(byId("twin-source"), "nab");
  await page.waitForFunction((selector) => / of \d+/.test(document.querySelector(selector).textContent), byId("twin-position"), { timeout: 60_000 });
  assert.equal(await page.isVisible(byId("fault-controls")), false);
  const total = Number((await text(page, "twin-position")).split(" of ")[1].split(" ")[0]);
  // About 22 700 rows of 5 minutes, less the 2000 the forecaster is fitted on.
  assert.ok(total > 20_000 && total < 21_000, `total ${total}`);

  // Seek to the middle: the position lands there.
  await page.$eval(byId("twin-scrubber"), (input, to) => {
    input.value = String(to);
    input.dispatchEvent(new Event("change"));
  }, 9000);
  await page.waitForFunction((selector) => /^9\d{3} of/.test(document.querySelector(selector).textContent), byId("twin-position"), { timeout: 60_000 });
  // The log keeps the events before the new position; the chart shows the readings up to it.
  await page.waitForFunction((selector) => document.querySelectorAll(`${selector} tr`).length > 2, byId("twin-events"));
  await page.waitForTimeout(500);
  assert.ok((await countColor(page, "twin-chart", COLORS.forecast)) > 100, "no forecasts drawn after the seek");
  await page.screenshot({ path: join(ARTIFACTS, "twin-nab.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("the twin settings are edited as JSON: a broken edit is refused and changes nothing", async () => {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  await page.goto(env.url);
  await page.waitForFunction((selector) => /"commissioning_readings": 60/.test(document.querySelector(selector).value), byId("twin-config"), { timeout: 60_000 });
  await page.click("summary:has-text('Twin settings')");

  // Broken JSON: a message, and the twin keeps running.
  await page.fill(byId("twin-config"), '{"commissioning_readings": ');
  await page.click(byId("twin-config-apply"));
  await page.waitForFunction((selector) => !document.querySelector(selector).hidden, byId("twin-error"));
  assert.match(await text(page, "twin-error"), /not valid.*nothing was changed/);
  const before = Number((await text(page, "twin-position")).split(" ")[0]);
  await page.waitForFunction(
    ([selector, n]) => Number(document.querySelector(selector).textContent.split(" ")[0]) > n,
    [byId("twin-position"), before],
  );

  // The broken text stays for the user to fix.
  assert.equal(await page.$eval(byId("twin-config"), (e) => e.value), '{"commissioning_readings": ');

  // A valid edit restarts the twin with it.
  await page.reload();
  await page.waitForFunction((selector) => /"commissioning_readings": 60/.test(document.querySelector(selector).value), byId("twin-config"), { timeout: 60_000 });
  await page.click("summary:has-text('Twin settings')");
  const edited = (await page.$eval(byId("twin-config"), (e) => e.value)).replace('"commissioning_readings": 60', '"commissioning_readings": 25');
  await page.fill(byId("twin-config"), edited);
  await page.click(byId("twin-config-apply"));
  await page.waitForFunction((selector) => /"commissioning_readings": 25/.test(document.querySelector(selector).value), byId("twin-config"), { timeout: 60_000 });
  assert.equal(await page.isHidden(byId("twin-error")), true);
  await page.close();
});

test("the twin runs on the LSTM too: trained at commissioning, then streaming", async () => {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(env.url);
  await waitForState(page, /^(Commissioning|Healthy)$/);
  await page.selectOption(byId("twin-model"), "lstm");
  await page.selectOption(byId("twin-speed"), "10000");
  await page.waitForFunction((selector) => /Commissioning: fitting/.test(document.querySelector(selector).textContent), byId("twin-note"));
  await waitForState(page, /^Healthy$/, 300_000);
  const streamed = Number((await text(page, "twin-position")).split(" ")[0]);
  assert.ok(streamed > 60, `streamed ${streamed}`);
  assert.equal(await page.isHidden(byId("twin-error")), true, await text(page, "twin-error"));
  assert.deepEqual(problems, []);
  await page.close();
});
