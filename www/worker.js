// The training worker's bootstrap. It loads the same wasm module as the page
// (twinlab.js sits next to this file); the module's start code sees that it
// runs in a worker, installs its message handler and posts {type: "ready"}.
import init from "./twinlab.js";

init().catch((error) => {
  self.postMessage({
    type: "failed",
    message: `the training worker could not start: ${error}`,
    internal: false,
  });
});
