// The workers' bootstrap. The page posts a first message
// {module, gpu}: `module` is its own compiled `WebAssembly.Module` (the
// build without WebGPU code, twinlab.js), so that a worker instantiates it
// without fetching and compiling the wasm again.
//
// With `gpu` set (the training worker) and a WebGPU adapter in this
// browser, the worker loads the WebGPU build instead (twinlab_gpu.js and
// its wasm, built by tools/post-build.sh): only then is the GPU code
// downloaded. Should that fail, it runs the page's module and the jobs run
// on the CPU.
//
// Either module's start code sees that it runs in a worker, installs its
// message handler and posts "ready" (`FromWorker::Ready`).
import init from "./twinlab.js";

async function hasAdapter() {
  try {
    return Boolean(await self.navigator.gpu?.requestAdapter());
  } catch {
    return false;
  }
}

async function start({ module, gpu } = {}) {
  if (gpu && (await hasAdapter())) {
    try {
      const { default: initGpu } = await import("./twinlab_gpu.js");
      await initGpu({ module_or_path: new URL("./twinlab_gpu_bg.wasm", import.meta.url) });
      return;
    } catch (error) {
      console.warn(`the WebGPU module did not load (${error}); this worker runs on the CPU`);
    }
  }
  await init(module instanceof WebAssembly.Module ? { module_or_path: module } : undefined);
}

self.addEventListener(
  "message",
  (event) => {
    start(event.data ?? {}).catch((error) => {
      self.postMessage({
        type: "failed",
        message: `the worker could not start: ${error}`,
        internal: false,
      });
    });
  },
  { once: true },
);
