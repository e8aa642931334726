// @ts-check
// The installable app: registers the service worker (/sw.js), which keeps the app shell for
// offline start and caches nothing else (docs/web.md, "Service worker"). The page enforces
// Trusted Types, so the worker's URL goes through a policy that admits exactly that URL.

const WORKER_URL = "/sw.js";

/**
 * The Trusted Types API (not in TypeScript's DOM library yet).
 * @typedef {{ createPolicy(name: string, rules: { createScriptURL(url: string): string }):
 *   { createScriptURL(url: string): string } }} TrustedTypesFactory
 */

/** @type {string | null} */
let trustedUrl = null;

/** @returns {string} a TrustedScriptURL where Trusted Types exist (one policy per page) */
function workerUrl() {
  if (trustedUrl !== null) return trustedUrl;
  const factory = /** @type {{ trustedTypes?: TrustedTypesFactory }} */ (/** @type {unknown} */ (window)).trustedTypes;
  if (!factory) return (trustedUrl = WORKER_URL);
  const policy = factory.createPolicy("quietline-worker", {
    createScriptURL: (url) => {
      if (url !== WORKER_URL) throw new TypeError("only the app's service worker may load");
      return url;
    },
  });
  return (trustedUrl = policy.createScriptURL(WORKER_URL));
}

/** Register the worker (shell cache and Web Push listeners); the app works the same without
 * it (older browsers, private modes). Web Push (push.js) waits for it to be ready. */
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register(workerUrl(), { scope: "/" });
  } catch {
    // no offline start, nothing else lost
  }
}
