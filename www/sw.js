// twinlab's service worker: after the first visit the page, its demos and
// its workers load with no network at all.
//
// Network first: online, every request goes to the server as usual (so a
// new version is picked up at once) and a good response refreshes the
// cache; offline, the cached copy answers. The app's files and demo data
// are cached when the worker installs, so one visit is enough. Only GET
// requests to this origin are handled; nothing else is ever fetched.
const CACHE = "twinlab-v1";

// Relative to this file, so the app works from any sub-path. The WebGPU
// module (twinlab_gpu.js, twinlab_gpu_bg.wasm) is not in the list: only a
// browser with a WebGPU adapter fetches it, and then the fetch handler
// below keeps a copy like any other file.
const APP_FILES = [
  "./",
  "./index.html",
  "./style.css",
  "./twinlab.js",
  "./twinlab_bg.wasm",
  "./worker.js",
  "./manifest.webmanifest",
  "./icon.svg",
  "./data/ett/ETTh2.csv",
  "./data/nab/machine_temperature_system_failure.csv",
  "./data/nab/combined_windows.json",
  "./data/cmapss/train_FD001.txt",
  "./data/cmapss/test_FD001.txt",
  "./data/cmapss/RUL_FD001.txt",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(APP_FILES)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === "basic") {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(request, { ignoreSearch: true })
          .then((cached) => cached ?? Response.error()),
      ),
  );
});
