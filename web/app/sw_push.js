// @ts-check
// Web Push in the service worker: show "New message in Quietline" and nothing else (the
// push carries no name, number or text; see docs/web.md), and open the inbox on a tap.
// Imported by web/sw.js (importScripts), so it is a classic worker script, not a module.

/**
 * The few service-worker types used here (tsconfig's lib is "dom", not "webworker").
 * @typedef {{ waitUntil(promise: Promise<unknown>): void }} ExtendableEvent
 * @typedef {ExtendableEvent & { notification: { close(): void } }} NotificationEvent
 * @typedef {{ url: string, focus(): Promise<unknown> }} WindowClient
 * @typedef {object} WorkerScope
 * @property {{ showNotification(title: string, options: object): Promise<void> }} registration
 * @property {{ matchAll(options: object): Promise<WindowClient[]>, openWindow(url: string): Promise<unknown> }} clients
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 */

const worker = /** @type {WorkerScope} */ (/** @type {unknown} */ (self));
const NOTICE_TITLE = "New message in Quietline";
const NOTICE_BODY = "Open Quietline to read it.";

worker.addEventListener("push", (/** @type {ExtendableEvent} */ event) => {
  // Whatever the payload says, the text shown is fixed: a compromised or confused sender
  // cannot make this device display a client's details.
  const shown = worker.registration.showNotification(NOTICE_TITLE, {
    body: NOTICE_BODY,
    tag: "quietline-new-message", // one notice, replaced, however many texts arrive
    renotify: true,
  });
  event.waitUntil(shown);
});

worker.addEventListener("notificationclick", (/** @type {NotificationEvent} */ event) => {
  event.notification.close();
  const focusInbox = worker.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname === "/");
    return open ? open.focus() : worker.clients.openWindow("/");
  });
  event.waitUntil(focusInbox);
});
