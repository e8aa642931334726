// The service worker. Its app-shell cache is the "pwa" work; the lead merges the two files.
// The worker's CSP requires Trusted Types for script URLs too: one policy, one URL.
const swImports = self.trustedTypes
  ? self.trustedTypes.createPolicy("quietline-worker-imports", {
      createScriptURL: (url) => {
        if (url !== "/app/sw_push.js") throw new TypeError("not a worker script");
        return url;
      },
    })
  : { createScriptURL: (url) => url };
importScripts(swImports.createScriptURL("/app/sw_push.js"));
