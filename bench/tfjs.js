// The reference workloads of bench/README.md (R1, R2 and the 1024³ matmul
// roofline) in TensorFlow.js, for bench/browser.mjs: the same shapes, run
// counts and seeds as `src/workloads.rs`, so the figures sit beside
// twinlab's `bench_workloads` export.
//
// Runs in the browser. bench/index.html loads the TF.js UMD bundles from
// /node_modules/ first (they set `globalThis.tf`, with the cpu and webgl
// backends, and add `tf.wasm` and the webgpu backend); nothing here is
// fetched from the network.
//
// Every timing is `performance.now()` around work that ends with a read
// back (`await tensor.data()`), so queued GPU work is counted.

const tf = globalThis.tf;

/** Where the wasm backend's .wasm files are served (bench/browser.mjs serves the repo root). */
export const WASM_PATH = "/node_modules/@tensorflow/tfjs-backend-wasm/dist/";

/** Windows of a batched inference run (src/workloads.rs INFERENCE_BATCH). */
const INFERENCE_BATCH = 1024;
/** Timed single-window runs. */
const LATENCY_RUNS = 50;
/** Timed training epochs after the warm-up epoch. */
const EPOCHS = 3;
/** Warm-up runs before every timed series. */
const WARMUPS = 2;
/** An epoch projected longer than this is measured once, not three times. */
const SLOW_EPOCH_S = 120;

/** The reference workloads (bench/README.md, src/workloads.rs R1 and R2). */
export const WORKLOADS = {
  R1: { lookback: 30, features: 14, hidden: 64, outputs: 1, trainWindows: 16_384, batch: 256 },
  R2: { lookback: 96, features: 7, hidden: 64, outputs: 24, trainWindows: 8_192, batch: 128 },
};

/**
 * FLOPs of one window's forward pass (the same formula as
 * `Workload::flops_per_window`): per step the four gates'
 * `[features + hidden] × 4·hidden` product (2 FLOPs a multiply-add), then
 * the head's `hidden × outputs` product.
 */
export function flopsPerWindow(w) {
  return w.lookback * 2 * (w.features + w.hidden) * 4 * w.hidden + 2 * w.hidden * w.outputs;
}

/** SplitMix64 (src/train.rs), so the inputs match the native bench's. */
class SplitMix64 {
  constructor(seed) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }
  nextU64() {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }
  /** Uniform in [0, 1), 53 random bits. */
  nextUnit() {
    return Number(this.nextU64() >> 11n) / 2 ** 53;
  }
}

/** `count` seeded values uniform in ±1 (src/workloads.rs `random`). */
export function random(count, seed) {
  const rng = new SplitMix64(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 1) out[i] = rng.nextUnit() * 2 - 1;
  return out;
}

/** The median; the upper one of an even count (src/workloads.rs `median`). */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Lets the event loop (and the GPU process) breathe between runs. */
const breathe = () => new Promise((resolve) => setTimeout(resolve, 0));

const log = (...parts) => console.log("[bench]", ...parts);

/** The seeded network of workload `w`: LSTM then dense, the same on every backend. */
function buildModel(w) {
  const model = tf.sequential();
  model.add(
    tf.layers.lstm({
      units: w.hidden,
      inputShape: [w.lookback, w.features],
      // The same cell as twinlab's (and Keras's): sigmoid gates, tanh
      // activations. TF.js's LSTM defaults to the cheaper hardSigmoid.
      activation: "tanh",
      recurrentActivation: "sigmoid",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: 8 }),
      biasInitializer: "zeros",
    }),
  );
  model.add(
    tf.layers.dense({
      units: w.outputs,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }),
      biasInitializer: "zeros",
    }),
  );
  return model;
}

/** One forward pass of `windows` windows from `data`, read back; milliseconds. */
async function timePredict(model, w, data, windows) {
  const started = performance.now();
  // The input tensor is built inside the timing, as twinlab's predict
  // builds its tensor from a slice.
  const x = tf.tensor3d(data, [windows, w.lookback, w.features]);
  const y = model.predict(x);
  const values = await y.data();
  const ms = performance.now() - started;
  x.dispose();
  y.dispose();
  if (values.length !== windows * w.outputs) throw new Error(`a forecast of ${values.length} values`);
  return ms;
}

/** The 1024 × 1024 × 1024 f32 product: median of 5 after 2 warm-ups. */
async function matmul() {
  const n = 1024;
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  await Promise.all([a.data(), b.data()]);
  const times = [];
  for (let run = 0; run < WARMUPS + 5; run += 1) {
    const started = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    const ms = performance.now() - started;
    c.dispose();
    if (run >= WARMUPS) times.push(ms);
    await breathe();
  }
  a.dispose();
  b.dispose();
  const ms = median(times);
  return { ms, gflops: (2 * n ** 3) / (ms / 1e3) / 1e9 };
}

/** An empty set of figures for workload `name`, in `partial`. */
function figures(name, partial) {
  partial[name] = { inference_ms: null, windows_per_s: null, latency_ms: null, epoch_s: null };
  return partial[name];
}

/** Adds `message` to the figures' `error` (several parts may fail). */
function fail(out, message) {
  out.error = out.error ? `${out.error}; ${message}` : message;
}

/**
 * Batched inference (median of `runs` after 2 warm-ups, 1024 windows) and
 * single-window latency (median of 50 after 2 warm-ups) of workload `name`.
 */
async function inference(name, runs, out, overTime) {
  const w = WORKLOADS[name];
  const inputLen = w.lookback * w.features;
  const model = buildModel(w);
  try {
    const batch = random(INFERENCE_BATCH * inputLen, 1);
    const times = [];
    for (let run = 0; run < WARMUPS + runs; run += 1) {
      const ms = await timePredict(model, w, batch, INFERENCE_BATCH);
      if (run >= WARMUPS) times.push(ms);
      await breathe();
    }
    out.inference_ms = median(times);
    out.windows_per_s = INFERENCE_BATCH / (out.inference_ms / 1e3);
    log(`${name} inference ${out.inference_ms.toFixed(1)} ms (${out.windows_per_s.toFixed(0)} windows/s)`);

    if (overTime()) throw new Error("latency skipped: over the time limit");
    const one = random(inputLen, 2);
    const latencies = [];
    for (let run = 0; run < WARMUPS + LATENCY_RUNS; run += 1) {
      const ms = await timePredict(model, w, one, 1);
      if (run >= WARMUPS) latencies.push(ms);
    }
    out.latency_ms = median(latencies);
    log(`${name} latency ${out.latency_ms.toFixed(2)} ms`);
  } catch (error) {
    fail(out, String(error?.message ?? error));
  } finally {
    model.dispose();
  }
}

/**
 * Training epochs of workload `name`: a fresh network with the same seeds,
 * Adam (lr 1e-3), MSE, `trainWindows / batch` = 64 steps an epoch, each
 * `model.trainOnBatch` on the one fixed batch (as the native bench does);
 * seconds per epoch, median of 3 after a warm-up epoch. An epoch projected
 * over 120 s is measured once (said in `note`).
 */
async function training(name, out, overTime) {
  const w = WORKLOADS[name];
  const inputLen = w.lookback * w.features;
  const notes = [];
  const model = buildModel(w);
  const xs = tf.tensor3d(random(w.batch * inputLen, 3), [w.batch, w.lookback, w.features]);
  const ys = tf.tensor2d(random(w.batch * w.outputs, 4), [w.batch, w.outputs]);
  const probe = tf.tensor3d(random(inputLen, 3), [1, w.lookback, w.features]);
  try {
    model.compile({ optimizer: tf.train.adam(1e-3), loss: "meanSquaredError" });
    const steps = w.trainWindows / w.batch;
    // `count` steps, then one forecast read back, as the native bench ends
    // its epochs (trainOnBatch reads each step's loss back anyway).
    const epoch = async (count) => {
      const started = performance.now();
      for (let step = 0; step < count; step += 1) {
        if (overTime()) throw new Error(`stopped mid-epoch at step ${step}: over the time limit`);
        await model.trainOnBatch(xs, ys);
      }
      const y = model.predict(probe);
      await y.data();
      y.dispose();
      return (performance.now() - started) / 1e3;
    };

    // The warm-up epoch. Its first step compiles (kernels, shaders); steps
    // 2 to 4 project an epoch's length, and a slow backend stops warming
    // up there and is measured on one epoch instead of three.
    const first = await epoch(1);
    const sample = await epoch(3);
    const projected = (sample / 3) * steps;
    log(`${name} training: first step ${first.toFixed(2)} s, an epoch projects to ${projected.toFixed(1)} s`);
    let epochs = EPOCHS;
    if (projected > SLOW_EPOCH_S) {
      epochs = 1;
      notes.push(
        `an epoch projected to ${projected.toFixed(0)} s (over ${SLOW_EPOCH_S} s): ` +
          `warmed up on 4 steps, measured 1 epoch instead of ${EPOCHS}`,
      );
    } else {
      await epoch(steps - 4);
    }
    await breathe();
    const seconds = [];
    try {
      for (let run = 0; run < epochs; run += 1) {
        seconds.push(await epoch(steps));
        out.epoch_s = median(seconds);
        log(`${name} epoch ${run + 1}/${epochs}: ${seconds.at(-1).toFixed(2)} s`);
        await breathe();
      }
    } finally {
      if (seconds.length > 0 && seconds.length < epochs) {
        notes.push(`${seconds.length} of ${epochs} epochs measured`);
      }
    }
  } catch (error) {
    fail(out, String(error?.message ?? error));
  } finally {
    model.dispose();
    xs.dispose();
    ys.dispose();
    probe.dispose();
  }
  if (notes.length) out.note = notes.join("; ");
}

/** What the backend runs on: wasm threads and SIMD, the GL renderer, the GPU adapter. */
async function features(backend) {
  const env = tf.env();
  const info = { crossOriginIsolated: globalThis.crossOriginIsolated === true };
  if (backend === "wasm") {
    await env.getAsync("WASM_HAS_SIMD_SUPPORT");
    await env.getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    info.WASM_HAS_SIMD_SUPPORT = env.getBool("WASM_HAS_SIMD_SUPPORT");
    info.WASM_HAS_MULTITHREAD_SUPPORT = env.getBool("WASM_HAS_MULTITHREAD_SUPPORT");
    info.threads = tf.wasm.getThreadsCount();
  } else if (backend === "webgl") {
    info.WEBGL_VERSION = env.getNumber("WEBGL_VERSION");
    try {
      const gl = tf.backend().gpgpu.gl;
      const ext = gl.getExtension("WEBGL_debug_renderer_info");
      info.renderer = gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    } catch {
      // The renderer's name is a nicety.
    }
  } else if (backend === "webgpu") {
    const adapter = tf.backend().adapterInfo;
    if (adapter) info.adapter = { vendor: adapter.vendor, architecture: adapter.architecture };
  }
  return info;
}

/**
 * Runs the reference workloads on TF.js backend `backend` (`cpu`, `wasm`,
 * `webgl` or `webgpu`), `runs` timed batched-inference runs each.
 * Resolves to `{backend, features, matmul: {ms, gflops}, R1, R2}` (R1 and
 * R2: `{inference_ms, windows_per_s, latency_ms, epoch_s}`, with `note`
 * and `error` where they apply), or to `{backend, error}` when the backend
 * does not start. `options.timeLimitS` (default: none) skips what is left
 * of the run once that many seconds have passed; `options.wasmThreads`
 * asks the wasm backend for that many XNNPACK threads (TF.js caps them at
 * half of `navigator.hardwareConcurrency`; the default is that cap).
 */
export async function runTfjs(backend, runs = 5, options = {}) {
  const started = performance.now();
  const deadline = started + (options.timeLimitS ?? Infinity) * 1e3;
  const result = { backend };
  globalThis.benchPartial = result;
  try {
    if (!tf) throw new Error("TF.js is not loaded (globalThis.tf is missing)");
    if (backend === "wasm") {
      if (!tf.wasm) throw new Error("the TF.js wasm backend is not loaded");
      tf.wasm.setWasmPaths(WASM_PATH);
      if (options.wasmThreads) tf.wasm.setThreadsCount(options.wasmThreads);
    }
    const ok = await tf.setBackend(backend);
    await tf.ready();
    if (!ok || tf.getBackend() !== backend) throw new Error(`tf.setBackend("${backend}") did not start it`);
  } catch (error) {
    return { backend, error: String(error?.message ?? error) };
  }
  result.features = await features(backend).catch((error) => ({ error: String(error?.message ?? error) }));
  log(`${backend}: started`, JSON.stringify(result.features));

  const overTime = () => performance.now() > deadline;
  try {
    result.matmul = await matmul();
    log(`${backend} matmul ${result.matmul.ms.toFixed(1)} ms (${result.matmul.gflops.toFixed(1)} GFLOP/s)`);
  } catch (error) {
    result.matmul = { ms: null, gflops: null, error: String(error?.message ?? error) };
  }
  // Inference of both workloads first, then training: a slow backend that
  // runs out of time loses its training figures, not R2 altogether.
  const out = { R1: figures("R1", result), R2: figures("R2", result) };
  for (const name of ["R1", "R2"]) {
    if (overTime()) fail(out[name], "inference skipped: over the time limit");
    else await inference(name, runs, out[name], overTime);
    await breathe();
  }
  for (const name of ["R1", "R2"]) {
    if (overTime()) fail(out[name], "training skipped: over the time limit");
    else await training(name, out[name], overTime);
    await breathe();
  }
  result.total_s = (performance.now() - started) / 1e3;
  return result;
}
