// Benchmark: the reference workloads of bench/README.md (R1, R2 and the
// 1024³ matmul roofline) in twinlab's page build and in TensorFlow.js, in
// one headless Chromium session, side by side. Prints one JSON object on
// stdout; progress goes to stderr.
//
//   node bench/browser.mjs                  everything (needs dist/ from `trunk build --release`)
//   ONLY=tfjs node bench/browser.mjs        TF.js only (no dist/ needed)
//   ONLY=twinlab node bench/browser.mjs     twinlab only
//
// Options (environment):
//   RUNS=5              timed batched-inference runs per workload
//   TIME_LIMIT_S=1200   per backend: the page skips what is left after this,
//                       and the run is abandoned 60 s later if it still hangs
//   TFJS_BACKENDS=wasm,cpu,webgl,webgpu      the TF.js backends, in order
//   TWINLAB_BACKENDS=cpu,webgpu              the twinlab backends, in order
//   TFJS_WASM_THREADS=n  TF.js wasm with n XNNPACK threads. By default it
//                       takes half of navigator.hardwareConcurrency (1 on 2
//                       cores) and caps any request there; this reports 2n
//                       cores to its tab so that the request holds.
//   CHROMIUM=/usr/bin/chromium
//
// Order: twinlab cpu, twinlab webgpu (when Chromium offers an adapter),
// TF.js wasm, cpu, webgl, webgpu. Each backend runs in a fresh tab of the
// one browser, so a backend that hangs can be closed without the others,
// and no backend's memory or compiled kernels carry into the next.
//
// A static server on 127.0.0.1 serves the repository root (bench/,
// node_modules/ for TF.js, dist/ for twinlab) with COOP/COEP headers, so
// the page is cross-origin isolated and TF.js's wasm backend may use threads.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

import { BASE_ARGS, WEBGPU_ARGS } from "../tests/e2e/browser.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.RUNS ?? 5);
const ONLY = process.env.ONLY ?? "";
const TIME_LIMIT_S = Number(process.env.TIME_LIMIT_S ?? 1200);
/** How long past the page's own time limit a backend may hang before it is abandoned. */
const GRACE_S = 60;
const list = (value, fallback) => (value ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);
const TFJS_BACKENDS = list(process.env.TFJS_BACKENDS, "wasm,cpu,webgl,webgpu");
const TWINLAB_BACKENDS = list(process.env.TWINLAB_BACKENDS, "cpu,webgpu");
const TFJS_WASM_THREADS = process.env.TFJS_WASM_THREADS ? Number(process.env.TFJS_WASM_THREADS) : null;

if (!["", "tfjs", "twinlab"].includes(ONLY)) throw new Error(`ONLY must be tfjs or twinlab, not ${ONLY}`);
if (!(RUNS >= 1)) throw new Error(`RUNS must be a positive number, not ${process.env.RUNS}`);

// The tests' flags, and: a tab that waits on the GPU or a worker is not
// to be slowed down.
const ARGS = [
  ...BASE_ARGS,
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
];

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".css": "text/css; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

const progress = (...parts) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const problem = (error) => String(error?.message ?? error);

/** Serves the repository root's files, cross-origin isolated; resolves to { url, close }. */
async function serve(root) {
  const server = createServer(async (request, response) => {
    const headers = {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
      "cache-control": "no-store",
    };
    try {
      const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      const file = normalize(join(root, path));
      if (!file.startsWith(root + sep)) throw new Error("outside the root");
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      headers["content-type"] = TYPES[extname(file)] ?? "application/octet-stream";
      response.writeHead(200, headers).end(request.method === "HEAD" ? undefined : body);
    } catch {
      response.writeHead(404, headers).end("not found");
    }
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Size of one wasm file of dist/, raw and gzip -9. */
async function fileSize(name) {
  try {
    const bytes = await readFile(join(ROOT, "dist", name));
    return { raw_bytes: bytes.length, gzip_bytes: gzipSync(bytes, { level: 9 }).length };
  } catch (error) {
    return { error: `dist/${name}: ${problem(error)}` };
  }
}

/**
 * Sizes of the page's wasm module (what every visit loads) and of the
 * WebGPU module (loaded by the training worker only where there is an
 * adapter).
 */
async function wasmSize() {
  return { ...(await fileSize("twinlab_bg.wasm")), gpu_module: await fileSize("twinlab_gpu_bg.wasm") };
}

/**
 * Opens the bench page in a fresh tab, waits until it has loaded, runs
 * `work(page, loaded)` under the time limit and closes the tab. Resolves to
 * what `work` returned, or to `{error}` (with what the page had measured,
 * when it can still tell) if it failed or hung.
 */
async function inTab(browser, url, label, work, { cores = null } = {}) {
  const page = await browser.newPage();
  if (cores) {
    await page.addInitScript((cores) => {
      Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => cores });
    }, cores);
  }
  page.on("console", (message) => {
    const text = message.text();
    if (message.type() === "error" || text.startsWith("[bench]")) progress(`${label}:`, text);
  });
  page.on("pageerror", (error) => progress(`${label}: page error:`, error.message));
  let lost = null;
  page.on("crash", () => {
    lost = "the tab crashed";
    progress(`${label}: ${lost}`);
  });
  page.on("close", () => {
    lost ??= "the tab closed";
  });
  const started = Date.now();
  const TIMED_OUT = Symbol("timed out");
  let timer;
  let poller;
  // What the page has measured so far (runTfjs keeps it in benchPartial),
  // kept here in case the tab dies or hangs before it returns.
  let partial = null;
  const snapshot = () =>
    page
      .evaluate(() => (globalThis.benchPartial ? JSON.parse(JSON.stringify(globalThis.benchPartial)) : null))
      .then((value) => {
        partial = value ?? partial;
      })
      .catch(() => {});
  try {
    await page.goto(url, { timeout: 120_000 });
    await page.waitForFunction(() => window.benchReady, null, { timeout: 120_000 });
    const loaded = await page.evaluate(() => window.benchReady);
    const running = work(page, loaded);
    running.catch(() => {});
    poller = setInterval(snapshot, 10_000);
    const limit = new Promise((done) => {
      timer = setTimeout(() => done(TIMED_OUT), (TIME_LIMIT_S + GRACE_S) * 1e3);
    });
    const result = await Promise.race([running, limit]);
    if (result !== TIMED_OUT) return result;
    await Promise.race([snapshot(), sleep(5000)]);
    return { error: `abandoned after ${TIME_LIMIT_S + GRACE_S} s (time limit ${TIME_LIMIT_S} s)`, partial };
  } catch (error) {
    const why = lost ? `${lost}: ${problem(error)}` : problem(error);
    return partial ? { error: why, partial } : { error: why };
  } finally {
    clearInterval(poller);
    clearTimeout(timer);
    progress(`${label}: ${((Date.now() - started) / 1e3).toFixed(0)} s`);
    await Promise.race([page.close(), sleep(10_000)]).catch(() => {});
  }
}

/** What the WebGPU adapter is, or null when Chromium offers none. */
async function webgpuAdapter(browser, url) {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    return await page.evaluate(async () => {
      const adapter = await navigator.gpu?.requestAdapter();
      if (!adapter) return null;
      const info = adapter.info ?? {};
      return { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
    });
  } catch {
    return null;
  } finally {
    await page.close();
  }
}

/** The figure of the better of TF.js's CPU-side backends (wasm or cpu). */
function bestTfjs(tfjs, pick, better) {
  let best = null;
  for (const backend of ["wasm", "cpu"]) {
    const value = pick(tfjs[backend] ?? {});
    if (Number.isFinite(value) && value > 0 && (best === null || better(value, best.value))) {
      best = { backend, value };
    }
  }
  return best;
}

/**
 * Twinlab's CPU backend against the better TF.js CPU-side backend, figure
 * by figure; every ratio is > 1 when twinlab is the faster:
 *   R*_inference  twinlab windows/s ÷ TF.js windows/s
 *   R*_training   TF.js s/epoch ÷ twinlab s/epoch
 *   R*_latency    TF.js ms ÷ twinlab ms
 *   R*_inference_fraction_of_matmul  the page's `fraction_of_matmul`:
 *                 twinlab's inference GFLOP/s over its matmul GFLOP/s,
 *                 the median over inference runs each followed by one
 *                 product (FLOPs from `Workload::flops_per_window`)
 * `basis` says which TF.js backend each ratio is against.
 */
function ratios(twin, tfjs) {
  const out = {};
  const basis = {};
  const lower = (a, b) => a < b;
  const higher = (a, b) => a > b;
  const figure = (w, key) => (r) => r?.[w]?.[key];
  for (const w of ["R1", "R2"]) {
    const specs = [
      [`${w}_inference`, "windows_per_s", higher, (t, b) => t / b],
      [`${w}_training`, "epoch_s", lower, (t, b) => b / t],
      [`${w}_latency`, "latency_ms", lower, (t, b) => b / t],
    ];
    for (const [name, key, better, ratio] of specs) {
      const mine = figure(w, key)(twin);
      const best = bestTfjs(tfjs, figure(w, key), better);
      out[name] = Number.isFinite(mine) && mine > 0 && best ? ratio(mine, best.value) : null;
      basis[name] = best ? `tfjs ${best.backend}` : null;
    }
  }
  for (const w of ["R1", "R2"]) {
    const paired = twin?.[w]?.fraction_of_matmul;
    out[`${w}_inference_fraction_of_matmul`] = Number.isFinite(paired) ? paired : null;
  }
  return { ratios: out, basis };
}

const server = await serve(ROOT);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [...ARGS, ...WEBGPU_ARGS],
});
const page = `${server.url}/bench/index.html`;
const result = {
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    chromium: browser.version(),
    webgpu_adapter: null,
  },
  wasm: await wasmSize(),
  twinlab: {},
  tfjs: {},
  ratios: {},
};
progress(`chromium ${result.machine.chromium}, ${result.machine.cores} cores; serving ${ROOT} at ${server.url}`);

try {
  const adapter = await webgpuAdapter(browser, page + "?twinlab=0");
  result.machine.webgpu_adapter = adapter;
  progress(adapter ? `WebGPU adapter: ${JSON.stringify(adapter)}` : "no WebGPU adapter");

  if (ONLY !== "tfjs") {
    for (const backend of TWINLAB_BACKENDS) {
      if (backend === "webgpu" && !adapter) {
        result.twinlab.webgpu = { backend, error: "no WebGPU adapter in this Chromium" };
        continue;
      }
      progress(`twinlab ${backend}: starting`);
      // The WebGPU figures come from the WebGPU module, as in the app.
      const url = backend === "webgpu" ? `${page}?module=gpu` : page;
      const figures = await inTab(browser, url, `twinlab ${backend}`, async (tab, loaded) => {
        if (loaded.twinlab.error) return { backend, error: loaded.twinlab.error };
        return tab.evaluate(async ([backend, runs]) => {
          const figures = await window.twinlab.bench_workloads(backend, runs);
          // Plain JSON (serde may hand back Maps; NaN becomes null).
          return JSON.parse(JSON.stringify(figures, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v)));
        }, [backend, RUNS]);
      });
      result.twinlab[backend] = { backend, ...figures };
      progress(`twinlab ${backend}:`, JSON.stringify(result.twinlab[backend]));
    }
  }

  if (ONLY !== "twinlab") {
    for (const backend of TFJS_BACKENDS) {
      progress(`tfjs ${backend}: starting`);
      const figures = await inTab(browser, page + "?twinlab=0", `tfjs ${backend}`, async (tab, loaded) => {
        if (loaded.tfjs.error) return { backend, error: loaded.tfjs.error };
        return tab.evaluate(
          ([backend, runs, timeLimitS, wasmThreads]) => window.runTfjs(backend, runs, { timeLimitS, wasmThreads }),
          [backend, RUNS, TIME_LIMIT_S, backend === "wasm" ? TFJS_WASM_THREADS : null],
        );
      }, { cores: backend === "wasm" && TFJS_WASM_THREADS ? 2 * TFJS_WASM_THREADS : null });
      result.tfjs[backend] = { backend, ...figures };
      progress(`tfjs ${backend}:`, JSON.stringify(result.tfjs[backend]));
    }
  }

  const { ratios: figures, basis } = ratios(result.twinlab.cpu, result.tfjs);
  result.ratios = figures;
  result.ratios_basis = basis;
} finally {
  await browser.close();
  await server.close();
}

process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
