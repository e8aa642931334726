// Quietline's service worker: keeps the app shell (the page, its scripts, styles and
// icons) so the installed app opens without a network. It caches nothing else, ever: API
// answers, config.json, audio and anything that could hold PHI go to the network untouched
// (see docs/web.md, "Service worker"). Served from /sw.js so its scope is the whole app.
"use strict";

// Web Push listeners (sw_push.js). The worker's CSP requires Trusted Types for script URLs
// too: one policy, one URL.
const swImports = self.trustedTypes
  ? self.trustedTypes.createPolicy("quietline-worker-imports", {
      createScriptURL: (url) => {
        if (url !== "/app/sw_push.js") throw new TypeError("not a worker script");
        return url;
      },
    })
  : { createScriptURL: (url) => url };
importScripts(swImports.createScriptURL("/app/sw_push.js"));

const CACHE = "quietline-shell-v1";
const SHELL = [
  "/",
  "/app/style.css",
  "/app/main.js",
  "/app/admin.js",
  "/app/appointments.js",
  "/app/care_admin.js",
  "/app/cognito.js",
  "/app/dom.js",
  "/app/fields.js",
  "/app/inbox.js",
  "/app/inbox_format.js",
  "/app/live.js",
  "/app/layout.js",
  "/app/lock.js",
  "/app/new_contact.js",
  "/app/passkeys.js",
  "/app/push.js",
  "/app/pwa.js",
  "/app/reminders_admin.js",
  "/app/schedule.js",
  "/app/segments.js",
  "/app/session.js",
  "/app/settings_view.js",
  "/app/sw_push.js",
  "/app/urgent.js",
  "/app/voice.js",
  "/app/voice_admin.js",
  "/app/manifest.json",
  "/app/icon.svg",
  "/app/icon-180.png",
  "/app/icon-192.png",
  "/app/icon-512.png",
  "/app/icon-maskable-512.png",
];
const SHELL_PATHS = new Set(SHELL);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
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

// Network first, so a publish is live at once; the cached copy only when offline. A request
// outside the shell list is not answered here at all, so the browser fetches it as usual.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.search) return;
  if (!SHELL_PATHS.has(url.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.type === "basic") {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
        }
        return response;
      })
      .catch(() => caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((hit) => hit || Response.error())),
  );
});
