// Time from navigation to the first forecast chart of the demo: the page
// opens on the live twin of the simulated pump, which commissions its
// forecaster and draws the forecast (orange) on its chart. Each run is a
// fresh browser context (no cache, no saved project, no service worker);
// prints one JSON object with every run and the median.
//
//   node bench/first-chart.mjs        (after `trunk build --release`; RUNS=5)
import { byId, COLORS, start } from "../tests/e2e/browser.mjs";

const RUNS = Number(process.env.RUNS ?? 5);

const env = await start();
const runs = [];
try {
  for (let run = 0; run < RUNS; run += 1) {
    const context = await env.browser.newContext({ viewport: { width: 1100, height: 1400 } });
    const page = await context.newPage();
    await page.goto(env.url, { waitUntil: "commit" });
    // Polled in the page; the time is the page's own clock since navigation.
    const ms = await page.waitForFunction(
      ([selector, [r, g, b]]) => {
        const canvas = document.querySelector(selector);
        if (!canvas || canvas.width === 0) return false;
        const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4) {
          if (Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30) {
            return performance.now();
          }
        }
        return false;
      },
      [byId("twin-chart"), COLORS.forecast],
      { timeout: 60_000, polling: 20 },
    ).then((handle) => handle.jsonValue());
    runs.push(Math.round(ms));
    process.stderr.write(`run ${run + 1}: first forecast chart after ${Math.round(ms)} ms\n`);
    await context.close();
  }
} finally {
  await env.stop();
}
const sorted = [...runs].sort((a, b) => a - b);
console.log(JSON.stringify({ first_chart_ms: { runs, median: sorted[Math.floor(sorted.length / 2)] } }));
