// Shared helpers of the end-to-end tests: the browser, the server, and
// ways to look at the page (text, canvas pixels) from the test.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { serve } from "./server.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES = join(ROOT, "tests", "e2e", "fixtures");
export const ARTIFACTS = join(ROOT, "test-artifacts");

/** The Chromium flags every run here uses (no network of its own). */
export const BASE_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Chromium flags that give a software (SwiftShader) WebGPU adapter. */
export const WEBGPU_ARGS = [
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--enable-features=Vulkan",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
];

/** Serves dist/ under /twinlab/ and launches headless Chromium. */
export async function start({ webgpu = false } = {}) {
  const server = await serve({ root: join(ROOT, "dist") });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: webgpu ? [...BASE_ARGS, ...WEBGPU_ARGS] : BASE_ARGS,
  });
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    url: server.url,
    browser,
    server,
    async stop() {
      await browser.close();
      await server.close();
    },
  };
}

/** A page of the app (with `query`, e.g. "?max_mb=1"), demo data loaded. */
export async function openApp(env, query = "") {
  const page = await env.browser.newPage({ viewport: { width: 1100, height: 1400 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  // The page opens on the live twin; these tests are about the Forecast
  // task unless they name a task or a demo.
  const wanted = /[?&](task|demo)=/.test(query) ? query : `${query ? `${query}&` : "?"}task=forecast`;
  await page.goto(env.url + wanted);
  await page.waitForFunction(
    () => /rows ready/.test(document.querySelector('[data-testid="data-report"]')?.textContent ?? ""),
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

/** The element with `data-testid` = `id`, as a CSS selector. */
export const byId = (id) => `[data-testid="${id}"]`;

/** The trimmed text of a test id. */
export async function text(page, id) {
  return ((await page.textContent(byId(id))) ?? "").trim();
}

/** Counts pixels of a canvas close to `rgb` (within `slack` per channel). */
export async function countColor(page, id, rgb, slack = 40) {
  return page.evaluate(
    ([selector, [r, g, b], slack]) => {
      const canvas = document.querySelector(selector);
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        const near = Math.abs(data[i] - r) <= slack && Math.abs(data[i + 1] - g) <= slack
          && Math.abs(data[i + 2] - b) <= slack;
        if (near && data[i + 3] > 0) count += 1;
      }
      return count;
    },
    [byId(id), rgb, slack],
  );
}

/** Counts pixels of a canvas that are not the white background. */
export function countInk(page, id) {
  return page.evaluate((selector) => {
    const canvas = document.querySelector(selector);
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) count += 1;
    }
    return count;
  }, byId(id));
}

/** A fingerprint of a canvas's pixels, to tell whether it changed. */
export function canvasHash(page, id) {
  return page.evaluate((selector) => {
    const canvas = document.querySelector(selector);
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 2166136261;
    for (let i = 0; i < data.length; i += 1) hash = Math.imul(hash ^ data[i], 16777619);
    return `${canvas.width}x${canvas.height}:${hash >>> 0}`;
  }, byId(id));
}

/** The colours the charts use (the core's Okabe-Ito palette). */
export const COLORS = {
  forecast: [213, 94, 0],
  train: [0, 114, 178],
  validation: [230, 159, 0],
};

/** Sets the setup form's numbers (strings or numbers). */
export async function setNumbers(page, values) {
  for (const [id, value] of Object.entries(values)) {
    await page.fill(byId(id), String(value));
  }
}

/** Waits until the metrics table holds a number and returns its text. */
export async function waitForMetrics(page, timeout = 240_000) {
  await page.waitForFunction(
    (selector) => /\d\.\d/.test(document.querySelector(selector)?.textContent ?? ""),
    byId("metrics-table"),
    { timeout },
  );
  return text(page, "metrics-table");
}
