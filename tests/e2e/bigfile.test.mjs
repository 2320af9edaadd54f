// End-to-end test of a big file: a CSV of 1,000,000 rows and 10 sensor
// columns (generated here) is read off the page's thread, with a progress
// bar, while the page stays responsive: no main-thread task over 200 ms
// (the Long Tasks API). Prints the timings and the peak memory; a file
// over the page's limit is refused before it is read.
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { byId, openApp, start, text } from "./browser.mjs";

const ROWS = 1_000_000;
const COLUMNS = 10;

let env;
let file;
before(async () => {
  env = await start();
  const dir = await mkdtemp(join(tmpdir(), "twinlab-big-"));
  file = join(dir, "big-1m.csv");
  await writeBigCsv(file);
});
after(async () => {
  await env?.stop();
});

/** A seeded series of 10 noisy sensor channels, one row a minute. */
async function writeBigCsv(path) {
  const out = createWriteStream(path);
  const header = ["time", ...Array.from({ length: COLUMNS }, (_, c) => `sensor_${c + 1}`)];
  out.write(`${header.join(",")}\n`);
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const start = 1_700_000_000;
  let chunk = [];
  for (let row = 0; row < ROWS; row += 1) {
    const cells = [start + row * 60];
    for (let c = 0; c < COLUMNS; c += 1) {
      const value = 20 + 5 * c + 3 * Math.sin((row / 1440) * 2 * Math.PI + c) + random();
      cells.push(value.toFixed(3));
    }
    chunk.push(cells.join(","));
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join("\n")}\n`)) await new Promise((resolve) => out.once("drain", resolve));
      chunk = [];
    }
  }
  out.write(chunk.length ? `${chunk.join("\n")}\n` : "");
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
}

test("a 1,000,000-row file is read off the main thread with progress, no long tasks", async () => {
  const size = (await stat(file)).size;
  const { page, problems } = await openApp(env);

  // Watch the main thread from now on: long tasks, the progress text, the
  // JavaScript heap.
  await page.evaluate(() => {
    window.bigFile = { longTasks: [], progress: [], heapPeak: 0 };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.bigFile.longTasks.push(entry.duration);
    }).observe({ type: "longtask" });
    const progress = document.querySelector('[data-testid="progress-text"]');
    new MutationObserver(() => window.bigFile.progress.push(progress.textContent))
      .observe(progress, { childList: true, characterData: true, subtree: true });
    const sample = () => {
      window.bigFile.heapPeak = Math.max(window.bigFile.heapPeak, performance.memory?.usedJSHeapSize ?? 0);
    };
    window.bigFile.timer = setInterval(sample, 50);
  });

  const started = Date.now();
  await page.setInputFiles(byId("dataset-input"), file);
  await page.waitForFunction(
    () => /Loaded big-1m\.csv/.test(document.querySelector('[data-testid="status"]').textContent),
    null,
    { timeout: 300_000 },
  );
  const seconds = (Date.now() - started) / 1000;
  const seen = await page.evaluate(() => {
    clearInterval(window.bigFile.timer);
    return window.bigFile;
  });
  const report = await page.$eval(byId("data-report"), (element) => ({
    text: element.textContent,
    parseSeconds: Number(element.dataset.parseSeconds),
    workerMemory: Number(element.dataset.workerMemory),
    pageMemory: Number(element.dataset.pageMemory),
  }));

  const figures = {
    rows: ROWS,
    columns: COLUMNS,
    file_mb: +(size / 1e6).toFixed(1),
    upload_to_report_s: +seconds.toFixed(2),
    worker_parse_s: +report.parseSeconds.toFixed(2),
    longest_main_thread_task_ms: Math.max(0, ...seen.longTasks),
    long_tasks: seen.longTasks.length,
    progress_updates: seen.progress.length,
    worker_wasm_memory_mb: +(report.workerMemory / 1e6).toFixed(0),
    page_wasm_memory_mb: +(report.pageMemory / 1e6).toFixed(0),
    page_js_heap_peak_mb: +(seen.heapPeak / 1e6).toFixed(0),
  };
  console.log(`big file: ${JSON.stringify(figures)}`);

  assert.match(await text(page, "status"), /1000000 rows, 10 channels/);
  assert.match(report.text, /big-1m\.csv/);
  const partial = seen.progress.filter((line) => /Reading big-1m\.csv: (\d|[1-9]\d) %/.test(line) && !/: 0 %/.test(line));
  assert.ok(partial.length >= 3, `the progress bar moved: ${JSON.stringify(seen.progress.slice(0, 8))}`);
  assert.ok(
    figures.longest_main_thread_task_ms <= 200,
    `a main-thread task took ${figures.longest_main_thread_task_ms} ms: ${JSON.stringify(seen.longTasks)}`,
  );
  // The worker holds the bytes and the parsed table; bounded by a small
  // multiple of the file.
  assert.ok(report.workerMemory < 6 * size, `worker memory ${figures.worker_wasm_memory_mb} MB`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a file over the page's limit is refused before it is read", async () => {
  const { page, problems } = await openApp(env, "?max_mb=20");
  await page.setInputFiles(byId("dataset-input"), file);
  await page.waitForFunction(
    () => /too large|larger/.test(document.querySelector('[data-testid="error-message"]').textContent),
    null,
    { timeout: 30_000 },
  );
  const error = await text(page, "error-message");
  assert.match(error, /big-1m\.csv/);
  assert.match(error, /limit/);
  // The demo data is still there.
  assert.match(await text(page, "data-report"), /ETTh2/);
  assert.deepEqual(problems, []);
  await page.close();
});
