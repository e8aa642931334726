// @ts-check
// Web Push opt-in: this device may be told "New message in Quietline" (never a name,
// number or text) while the inbox is closed. The subscription goes to the staff API, which
// stores it sealed; e-mail stays the fallback. See docs/web.md.

import { api } from "./session.js";
import { registerWorker } from "./pwa.js";

/** Whether this browser can receive pushes at all. */
export function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** @param {string} base64url */
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Ask permission, subscribe this device and register it. Resolves to what to tell the user. */
export async function enable() {
  if (!supported()) return "This browser cannot show notifications.";
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return "Notifications are blocked for this site.";
  await registerWorker();
  const registration = await navigator.serviceWorker.ready;
  const { key } = /** @type {{ key: string }} */ (await api("GET", "/push/key"));
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key),
  });
  await api("POST", "/push/subscriptions", subscription.toJSON());
  return "This device will be notified of new messages (no names or text are shown).";
}

/** Stop notifications on this device. */
export async function disable() {
  if (!supported()) return "";
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return "This device is not notified.";
  await api("POST", "/push/subscriptions/remove", { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
  return "This device will no longer be notified.";
}
