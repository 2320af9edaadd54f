// Benchmark: trains the default RUL model on NASA C-MAPSS FD001 in the page
// (headless Chromium, CPU backend), the same configuration `twinlab rul`
// trains natively, and prints the training time the page measured and the
// test scores it shows. Needs a built page (`trunk build --release`).
//
//   node bench/page-rul.mjs            one run
//   RUNS=3 node bench/page-rul.mjs     several
import { byId, start, text } from "../tests/e2e/browser.mjs";

const runs = Number(process.env.RUNS ?? 1);
const env = await start();
try {
  for (let run = 1; run <= runs; run += 1) {
    const page = await env.browser.newPage();
    await page.goto(`${env.url}?demo=fd001`);
    await page.waitForFunction(
      () => /100 unit\(s\) by/.test(document.querySelector('[data-testid="data-report"]')?.textContent ?? ""),
      null,
      { timeout: 120_000 },
    );
    await page.selectOption(byId("backend-select"), "cpu");
    const started = Date.now();
    await page.click(byId("train-button"));
    await page.waitForFunction(
      (selector) => /Trained the RUL model/.test(document.querySelector(selector)?.textContent ?? ""),
      byId("status"),
      { timeout: 1_800_000 },
    );
    const wall = (Date.now() - started) / 1000;
    const status = await text(page, "status");
    const cells = await page.$$eval(`${byId("rul-metrics")} td`, (c) => c.map((x) => x.textContent));
    console.log(`run ${run}: ${status}`);
    console.log(`run ${run}: wall ${wall.toFixed(1)} s from the click; metrics cells: ${cells.slice(0, 8).join(" | ")}`);
    await page.close();
  }
} finally {
  await env.stop();
}
