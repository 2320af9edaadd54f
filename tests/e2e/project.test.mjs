// End-to-end tests of saved work: the project is kept in the browser
// (IndexedDB) and comes back on reload (data, setup, model, the twin with
// its faults, acknowledgements and event log); it exports as one file that
// imports into a fresh browser; a model file made by the command line
// imports too; damaged, cut or foreign files are refused and change
// nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { FIXTURES, byId, start, text } from "./browser.mjs";

let env;
let dir;
before(async () => {
  env = await start();
  dir = await mkdtemp(join(tmpdir(), "twinlab-project-"));
});
after(async () => {
  await env?.stop();
});

function watch(page) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  return problems;
}

async function waitForText(page, id, pattern, timeout = 120_000) {
  await page.waitForFunction(
    ([selector, source]) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ""),
    [byId(id), pattern.source],
    { timeout },
  );
}

/** The event log's rows: [time, from, to, alarm, why]. */
function eventRows(page) {
  return page.$$eval(`${byId("twin-events")} tr`, (trs) =>
    trs.slice(1).map((tr) => [...tr.children].map((c) => c.textContent)));
}

/** Waits for an autosave after this moment. */
async function waitForSave(page) {
  await page.evaluate((selector) => { document.querySelector(selector).textContent = "…"; }, byId("project-status"));
  await waitForText(page, "project-status", /^Saved in this browser/, 30_000);
}

/** What the page shows of the user's work. */
async function shown(page) {
  return {
    task: await page.inputValue(byId("task-select")),
    report: (await text(page, "data-report")).slice(0, 60),
    epochs: await page.inputValue(byId("epochs-input")),
    metrics: await text(page, "metrics-table"),
    events: await eventRows(page),
    position: (await text(page, "twin-position")).split(" ")[0],
  };
}

let exported;
let savedView;

test("the project comes back after a reload: data, setup, model, the twin and its log", async () => {
  const context = await env.browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(env.url);

  // The twin: a drift, an alarm, an acknowledgement, then paused.
  await page.waitForFunction((selector) => !/starting/.test(document.querySelector(selector).textContent), byId("twin-state"), { timeout: 60_000 });
  await page.selectOption(byId("twin-speed"), "10000");
  await waitForText(page, "twin-state", /^Healthy$/);
  await page.selectOption(byId("fault-kind"), "drift");
  await page.selectOption(byId("fault-channel"), "vibration_mm_s");
  await page.fill(byId("fault-magnitude"), "3");
  await page.fill(byId("fault-duration"), "3000");
  await page.click(byId("fault-inject"));
  await waitForText(page, "twin-alarm", /active, unacknowledged/);
  await page.click(byId("twin-ack"));
  await waitForText(page, "twin-alarm", /acknowledged/);
  await page.click(byId("twin-pause"));
  await waitForText(page, "twin-position", /paused/);

  // The Forecast task: the demo series, a short training run.
  await page.selectOption(byId("task-select"), "forecast");
  await waitForText(page, "data-report", /rows ready/, 60_000);
  await page.fill(byId("epochs-input"), "2");
  await page.click(byId("train-button"));
  await waitForText(page, "metrics-table", /\d/, 300_000);
  await waitForSave(page);
  const before = await shown(page);
  assert.ok(before.events.some((row) => /acknowledged by the operator/.test(row[4])), JSON.stringify(before.events.slice(0, 4)));

  // Reload: everything is back.
  await page.reload();
  await waitForText(page, "project-status", /^Restored the project/, 60_000);
  await waitForText(page, "metrics-table", /\d/, 120_000);
  await waitForText(page, "twin-position", new RegExp(`^${before.position} `), 120_000);
  const after = await shown(page);
  assert.deepEqual(after, before);
  assert.equal(await page.isVisible(byId("model-download")), true);

  // Export it as one file.
  const download = page.waitForEvent("download");
  await page.click(byId("project-export"));
  const file = join(dir, (await download).suggestedFilename());
  await (await download).saveAs(file);
  exported = file;
  savedView = before;
  assert.deepEqual(problems, []);
  await context.close();
});

test("an exported project imports into a fresh browser; bad files change nothing", async () => {
  assert.ok(exported, "the first test exported a project");
  const context = await env.browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${env.url}?task=forecast`);
  await waitForText(page, "data-report", /rows ready/, 60_000);
  await page.setInputFiles(byId("project-input"), exported);
  await waitForText(page, "project-status", /^Imported the project/, 60_000);
  await waitForText(page, "metrics-table", /\d/, 120_000);
  await waitForText(page, "twin-position", new RegExp(`^${savedView.position} `), 120_000);
  assert.deepEqual(await shown(page), savedView);

  // Damaged, cut and foreign files: a clear message, and nothing changes.
  const bytes = await readFile(exported);
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(flipped.length / 2)] ^= 0x20;
  const cases = [
    ["cut.twinproj", bytes.subarray(0, Math.floor(bytes.length / 2)), /cut short/],
    ["flipped.twinproj", flipped, /damaged/],
    ["foreign.twinproj", Buffer.from("time,value\n1,2\n"), /not a twinlab project/],
    ["empty.twinproj", Buffer.alloc(0), /not a twinlab project/],
  ];
  for (const [name, content, message] of cases) {
    const path = join(dir, name);
    await writeFile(path, content);
    await page.setInputFiles(byId("project-input"), path);
    await waitForText(page, "error-message", message, 30_000);
    const error = await text(page, "error-message");
    assert.match(error, new RegExp(name.replace(".", "\\.")));
    assert.match(error, /nothing was changed/);
    assert.deepEqual(await shown(page), savedView, `${name} changed the page`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test("a model file trained by the command line imports into the page", async () => {
  const target = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, ".cache", "twinlab-target");
  const cli = join(target, "debug", "twinlab");
  assert.ok(existsSync(cli), `the command line is built (${cli}): run cargo test first`);
  const model = join(dir, "sine-cli.twinlab");
  execFileSync(cli, ["train", join(FIXTURES, "sine.csv"), "--epochs", "2", "--out", model], { stdio: "pipe" });

  const context = await env.browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${env.url}?task=forecast`);
  await waitForText(page, "data-report", /rows ready/, 60_000);
  await page.setInputFiles(byId("dataset-input"), join(FIXTURES, "sine.csv"));
  await waitForText(page, "data-report", /sine\.csv/, 60_000);
  await page.setInputFiles(byId("project-input"), model);
  await waitForText(page, "status", /Loaded a model trained on sine\.csv/, 120_000);
  assert.match(await text(page, "metrics-table"), /\d/);
  assert.deepEqual(problems, []);
  await context.close();
});
