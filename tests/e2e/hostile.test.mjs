// End-to-end test of the hostile-file corpus (tests/data/hostile/, whose
// README lists what each file breaks): every broken file uploaded in the
// page either is refused with a message that names the problem (and the
// line) while the loaded dataset and the chart stay as they were, or loads
// with a report line that says what was repaired.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ROOT, byId, canvasHash, openApp, start, text } from "./browser.mjs";

const HOSTILE = join(ROOT, "tests", "data", "hostile");

/** Files the page must refuse, and what the message must say. */
const REFUSED = {
  "empty.csv": /the file is empty/,
  "blank_lines.csv": /the file is empty/,
  "only_commas.csv": /holds no values.*line 1/,
  "header_only.csv": /only a header line \(line 1\)/,
  "one_row.csv": /only 1 data row/,
  "binary.bin": /line \d+: the file holds a NUL byte/,
  "invalid_utf8.csv": /line 5: the file is not UTF-8/,
  "utf16le_bom.csv": /UTF-16 text \(little-endian/,
  "utf16be_bom.csv": /UTF-16 text \(big-endian/,
  "mixed_delimiters.csv": /line 6: this line is separated by `;`/,
  "long_line.csv": /line 5: 5 field\(s\) where line 1 has 3/,
  "unclosed_quote.csv": /line 3: a quote/,
};

/** Files that load, and the repair the report must name. */
const REPAIRED = {
  "short_lines.csv": /4 bad cell\(s\); the first at line 4/,
  "quoted_newlines.csv": /dropped text column `note`/,
  "text_in_numeric.csv": /text `n\/a`/,
  "nan_inf.csv": /5 bad cell\(s\); the first at line 3/,
  "duplicate_timestamps.csv": /dropped 3 duplicate row\(s\) \(first at line 5\)/,
  "unsorted.csv": /sorted the rows by time: it went backwards 2 time\(s\)/,
  "mixed_time_formats.csv": /could not be read \(first at line 13\)/,
  "time_mostly_unreadable.csv": /did not use `time` as the time/,
  "mixed_offsets.csv": /mixes times without a UTC offset \(from line 8\)/,
  "empty_column.csv": /dropped empty column `spare`/,
  "duplicate_header.csv": /renamed 2 column\(s\)/,
  "huge_values.csv": /filled 1 short gap\(s\)/,
};

let env;
before(async () => {
  env = await start();
});
after(async () => {
  await env?.stop();
});

test("every refused file names its problem and leaves the dataset and chart as they were", async () => {
  const { page, problems } = await openApp(env);
  const report = await text(page, "data-report");
  assert.match(report, /ETTh2\.csv/);
  const chart = await canvasHash(page, "forecast-chart");
  for (const [file, expected] of Object.entries(REFUSED)) {
    // Clear the last message so that the next one is seen arriving.
    await page.$eval(byId("error-message"), (e) => {
      e.textContent = "";
      e.hidden = true;
    });
    await page.setInputFiles(byId("dataset-input"), join(HOSTILE, file));
    await page.waitForFunction((selector) => !document.querySelector(selector).hidden, byId("error-message"));
    const message = await text(page, "error-message");
    assert.match(message, expected, `${file}: ${message}`);
    assert.match(message, new RegExp(file.replace(".", "\\.")), `${file}: the message does not name the file`);
    assert.equal(await text(page, "data-report"), report, `${file} changed the report`);
    assert.equal(await canvasHash(page, "forecast-chart"), chart, `${file} changed the chart`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test("every repairable file loads and the report says what was repaired", async () => {
  const { page, problems } = await openApp(env);
  for (const [file, expected] of Object.entries(REPAIRED)) {
    await page.setInputFiles(byId("dataset-input"), join(HOSTILE, file));
    await page.waitForFunction(
      ([selector, name]) => document.querySelector(selector).textContent.includes(name),
      [byId("data-report"), file],
    );
    const report = (await text(page, "data-report")).replace(/\s+/g, " ");
    assert.match(report, expected, `${file}: ${report.slice(0, 400)}`);
    assert.equal(await page.isHidden(byId("error-message")), true, `${file} showed an error`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});
