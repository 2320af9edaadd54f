// The workers' bootstrap. They run the same wasm module as the page
// (twinlab.js sits next to this file): the page posts its compiled
// `WebAssembly.Module` as the first message, so the worker instantiates it
// without fetching and compiling the wasm again. The module's start code
// sees that it runs in a worker, installs its message handler and posts
// {type: "ready"}.
import init from "./twinlab.js";

self.addEventListener(
  "message",
  (event) => {
    const module = event.data?.module;
    const started = module instanceof WebAssembly.Module ? init({ module_or_path: module }) : init();
    started.catch((error) => {
      self.postMessage({
        type: "failed",
        message: `the worker could not start: ${error}`,
        internal: false,
      });
    });
  },
  { once: true },
);
