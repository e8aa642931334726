// @ts-check
// The app lock: after the practice's lock delay without input, or as soon as the page goes
// to the background, every client detail is taken out of the page (the views are closed,
// their DOM emptied, not hidden) behind a lock screen. The 6-digit PIN unlocks it, checked
// by the server (POST /me/unlock); the view is then rebuilt by fetching through the API.
// Five wrong PINs end the session on the server: the next screen is the full sign-in.
//
// A passkey (Face ID, Touch ID, Windows Hello; user verification required) unlocks too,
// verified by the server (passkeys.js). Without a PIN or a passkey there is nothing quick
// to unlock with, so the page does not lock: the server's idle logoff (15 minutes) is then
// the only timer (docs/access.md). A practice that requires one (the default) gets the
// PIN dialog before any client detail is shown after sign-in.
//
// The server keeps the lock too: locking tells it (POST /me/lock), and until a PIN or a
// passkey unlocks, the API answers the session's token 423 on every route that shows a
// client. A 423 (a reload of a locked session, a lock sent from another tab) locks here.

import { $, clear, h, say, show, when } from "./dom.js";
import * as passkeys from "./passkeys.js";
import { ApiError, LOCKED_EVENT, api, idleFor, problem, sessionEnded } from "./session.js";

/** @import { Passkey } from "./passkeys.js" */

/** @typedef {{ lock_after_seconds: number, pin_set: boolean, require_unlock_method: boolean }} LockState */
/** @typedef {{ lock: () => void, unlock: () => Promise<void>, signOut: () => Promise<void> }} Hooks */

const state = {
  lockAfterMs: 120_000,
  pinSet: false,
  passkeys: /** @type {Passkey[]} */ ([]),
  locked: false,
  running: false,
  timer: /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined),
  // Set while the practice's requirement holds the page: resolves once a PIN or passkey is set.
  required: /** @type {(() => void) | null} */ (null),
};
/** @type {Hooks} */
let hooks = { lock: () => {}, unlock: async () => {}, signOut: async () => {} };

/** @param {Hooks} appHooks what the app does to empty and to rebuild its views */
export function bind(appHooks) {
  hooks = appHooks;
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") lock();
  });
  document.addEventListener(LOCKED_EVENT, () => lock({ told: true }));
  $("#unlock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    unlock();
  });
  $("#lock-now").addEventListener("click", () => lock());
  $("#pin-setup").addEventListener("click", () => openPinDialog());
  $("#pin-cancel").addEventListener("click", () => closePinDialog());
  // Held by the practice's requirement, a user who cannot set one now can still leave.
  $("#pin-sign-out").addEventListener("click", () => void hooks.signOut());
  $("#passkey-add").addEventListener("click", () => addPasskey());
  $("#unlock-passkey").addEventListener("click", () => unlockWithPasskey());
  $("#pin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    savePin();
  });
}

/**
 * Signed in: read the practice's settings and whether this user has a PIN; start watching.
 * Resolves when the page may show client details: at once, or (the practice requires a
 * PIN or a passkey and this user has neither) once one is set.
 */
export async function start() {
  state.running = true;
  show($("#pin-setup"));
  let required = false;
  try {
    const answer = /** @type {LockState} */ (await api("GET", "/me/lock"));
    state.lockAfterMs = answer.lock_after_seconds * 1000;
    state.passkeys = passkeys.supported() ? await passkeys.list() : [];
    setPinSet(answer.pin_set);
    required = answer.require_unlock_method;
  } catch {
    state.passkeys = [];
    setPinSet(false); // the page works unlocked; the server's idle logoff still applies
  }
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (idleFor() >= state.lockAfterMs) lock();
  }, 1000);
  if (required && !canUnlock() && state.running) {
    await new Promise((resolve) => {
      state.required = () => resolve(undefined);
      openPinDialog();
    });
  }
}

/** Signed out: nothing to lock; forget the state and take the lock screen down. */
export function stop() {
  clearInterval(state.timer);
  Object.assign(state, {
    running: false,
    locked: false,
    pinSet: false,
    passkeys: [],
    timer: undefined,
  });
  const waiting = state.required;
  state.required = null;
  if (waiting) waiting(); // signed out while asked for a PIN: let the sign-in finish
  show($("#lock-view"), false);
  $("#unlock-pin", HTMLInputElement).value = "";
  say($("#unlock-error"), "");
  closePinDialog();
}

export function isLocked() {
  return state.locked;
}

/** @param {boolean} value */
function setPinSet(value) {
  state.pinSet = value;
  show($("#lock-now"), canUnlock());
  $("#pin-setup").textContent = value ? "Change PIN" : "Set a PIN";
  renderPasskeys();
}

function canUnlock() {
  return state.pinSet || state.passkeys.length > 0;
}

/** @param {{ told?: boolean }} [options] told: the server already holds the lock (a 423) */
function lock({ told = false } = {}) {
  if (!state.running || !canUnlock() || state.locked) return;
  state.locked = true;
  closePinDialog();
  hooks.lock();
  // The server refuses this session's token from now on, not just this page (keepalive:
  // the page may be going to the background). If it fails, the next PHI request still
  // works until the idle logoff: the lock screen stands either way.
  if (!told) api("POST", "/me/lock", undefined, true).catch(() => {});
  say($("#unlock-error"), "");
  show($("#unlock-form"), state.pinSet);
  show($("#unlock-passkey"), state.passkeys.length > 0);
  show($("#lock-view"));
  $(state.pinSet ? "#unlock-pin" : "#unlock-passkey").focus();
}

async function unlocked() {
  state.locked = false;
  show($("#lock-view"), false);
  await hooks.unlock();
}

async function unlockWithPasskey() {
  const button = $("#unlock-passkey", HTMLButtonElement);
  button.disabled = true;
  try {
    await passkeys.unlock();
  } catch (error) {
    if (!sessionEnded(error)) say($("#unlock-error"), "That passkey was not accepted. Try again.");
    return;
  } finally {
    button.disabled = false;
  }
  await unlocked();
}

async function unlock() {
  const input = $("#unlock-pin", HTMLInputElement);
  const pin = input.value.trim();
  input.value = "";
  if (!/^[0-9]{6}$/.test(pin)) return say($("#unlock-error"), "Enter your 6-digit PIN.");
  const button = $("#unlock-button", HTMLButtonElement);
  button.disabled = true;
  try {
    await api("POST", "/me/unlock", { pin });
  } catch (error) {
    // A 401 (the fifth wrong PIN, or the session ended) has already signed the page out.
    if (!sessionEnded(error)) say($("#unlock-error"), wrongPin(error));
    return;
  } finally {
    button.disabled = false;
  }
  await unlocked();
}

/** @param {unknown} error */
function wrongPin(error) {
  if (error instanceof ApiError && error.status === 422) {
    const left = (error.data.errors || []).map((e) => e.problem || "").join(" ");
    const found = /(\d+) attempts? left/.exec(left);
    return found ? `That PIN is not right. ${found[1]} attempts left.` : "That PIN is not right.";
  }
  return problem(error);
}

// --- setting the PIN ------------------------------------------------------------------------
function openPinDialog() {
  for (const id of ["#new-pin", "#new-pin-again"]) $(id, HTMLInputElement).value = "";
  say($("#pin-error"), "");
  say($("#passkey-error"), "");
  show($("#passkey-add"), passkeys.supported());
  // Asked for by the practice: no closing it until a PIN or a passkey is set.
  show($("#pin-required"), state.required !== null);
  show($("#pin-cancel"), state.required === null);
  show($("#pin-sign-out"), state.required !== null);
  show($("#pin-dialog"));
  $("#new-pin").focus();
}

function closePinDialog() {
  for (const id of ["#new-pin", "#new-pin-again"]) $(id, HTMLInputElement).value = "";
  show($("#pin-dialog"), false);
}

/** A PIN or passkey now exists: a sign-in held by the practice's requirement goes on. */
function methodSet() {
  const waiting = state.required;
  state.required = null;
  if (waiting) {
    closePinDialog();
    waiting();
  }
}

async function savePin() {
  const pin = $("#new-pin", HTMLInputElement).value.trim();
  const again = $("#new-pin-again", HTMLInputElement).value.trim();
  if (!/^[0-9]{6}$/.test(pin)) return say($("#pin-error"), "A PIN is exactly 6 digits.");
  if (pin !== again) return say($("#pin-error"), "The two PINs are not the same.");
  try {
    await api("PUT", "/me/pin", { pin });
  } catch (error) {
    if (sessionEnded(error)) return;
    const weak = error instanceof ApiError && error.status === 422;
    return say($("#pin-error"), weak ? "Choose a PIN that is harder to guess." : problem(error));
  }
  closePinDialog();
  setPinSet(true);
  say($("#pin-status"), "PIN saved. Quietline locks when you step away.");
  methodSet();
}

// --- passkeys -------------------------------------------------------------------------------
function renderPasskeys() {
  const list = $("#passkey-list");
  clear(list);
  for (const passkey of state.passkeys) {
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    remove.setAttribute("aria-label", `Remove ${passkey.name}`);
    remove.addEventListener("click", () => removePasskey(passkey.credential_id));
    list.append(h("li", {}, `${passkey.name} · added ${when(passkey.created_at)} `, remove));
  }
  show($("#lock-now"), canUnlock());
}

async function addPasskey() {
  say($("#passkey-error"), "");
  try {
    const added = await passkeys.enrol("Passkey on this device");
    state.passkeys = [...state.passkeys, added];
  } catch (error) {
    if (sessionEnded(error)) return;
    return say($("#passkey-error"), "No passkey was added. Try again, or use a PIN.");
  }
  renderPasskeys();
  say($("#pin-status"), "Passkey added. Quietline locks when you step away.");
  methodSet();
}

/** @param {string} credentialId */
async function removePasskey(credentialId) {
  try {
    await passkeys.remove(credentialId);
  } catch (error) {
    if (!sessionEnded(error)) say($("#passkey-error"), problem(error));
    return;
  }
  state.passkeys = state.passkeys.filter((p) => p.credential_id !== credentialId);
  renderPasskeys();
}
