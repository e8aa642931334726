// @ts-check
// The inbox's entry point: configuration, sign-in (password, then the authenticator code;
// first time: new password and authenticator enrollment), switching between inbox and
// admin, and idle logoff. In local mode only, it also loads the demo panel (demo.js).

import { Cognito, CognitoError, explain } from "./cognito.js";
import { $, $$, say, show } from "./dom.js";
import * as session from "./session.js";
import * as inbox from "./inbox.js";
import * as admin from "./admin.js";
import * as layout from "./layout.js";
import { registerWorker } from "./pwa.js";
import * as urgent from "./urgent.js";
import * as appointments from "./appointments.js";
import * as schedule from "./schedule.js";
import * as lock from "./lock.js";
import * as passkeys from "./passkeys.js";

/** @import { AuthenticationResult, AuthResponse } from "./cognito.js" */
/** @import { Me } from "./session.js" */
/**
 * What the inbox needs before sign-in: /app/config.json (local/static.py: web_config();
 * a deployment's copy is written by `quietline web publish`).
 * @typedef {object} WebConfig
 * @property {string} cognito_endpoint
 * @property {string} user_pool_client_id
 * @property {string} [api_base_url]
 * @property {string} [secure_api_base_url] the clients' secure-link API (secure.js)
 * @property {number} idle_timeout_seconds
 * @property {boolean} [local_mode]
 */
/** @typedef {typeof import("./demo.js")} DemoPanel */
/** @typedef {{ name: string, session: string }} Challenge */

const state = {
  cognito: /** @type {Cognito | null} */ (null),
  email: "",
  challenge: /** @type {Challenge | null} */ (null),
  demo: /** @type {DemoPanel | null} */ (null), // local mode only
  me: /** @type {Me | null} */ (null),
};

/** The Cognito client (none until config.json has loaded). */
function cognito() {
  if (!state.cognito) throw new Error("not configured yet");
  return state.cognito;
}

/** The challenge being answered (the later steps' forms only show with one). */
function challenge() {
  if (!state.challenge) throw new Error("no sign-in under way");
  return state.challenge;
}

/**
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function loadJson(path) {
  const response = await fetch(path, { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// --- sign-in -------------------------------------------------------------------------------
const forms = ["password-form", "mfa-form", "new-password-form", "mfa-setup-form"];

/** @param {string} formId */
function step(formId) {
  for (const id of forms) show($(`#${id}`), id === formId);
  say($("#signin-error"), "");
  const [first] = $$(`#${formId} input:not([type=hidden])`, HTMLInputElement);
  if (first) first.focus();
  state.demo?.stepShown();
}

/** @param {string} [notice] */
function restart(notice) {
  state.challenge = null;
  for (const input of $$("#signin-view input", HTMLInputElement)) input.value = "";
  say($("#signin-notice"), notice || "");
  step("password-form");
}

/**
 * Run one sign-in step with its form's button disabled; a failure is explained in words.
 * @param {HTMLFormElement} form
 * @param {() => Promise<void>} work
 */
async function withBusy(form, work) {
  const button = $(`#${form.id} button[type=submit]`, HTMLButtonElement);
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    say($("#signin-error"), explain(error));
  } finally {
    button.disabled = false;
  }
}

/**
 * The next step of a sign-in: signed in, or the challenge Cognito asks for.
 * @param {AuthResponse} result
 * @returns {Promise<void>}
 */
async function next(result) {
  if (result.AuthenticationResult) return signedIn(result.AuthenticationResult);
  state.challenge = { name: result.ChallengeName ?? "", session: result.Session ?? "" };
  switch (result.ChallengeName) {
    case "SOFTWARE_TOKEN_MFA":
      return step("mfa-form");
    case "NEW_PASSWORD_REQUIRED":
      return step("new-password-form");
    case "MFA_SETUP":
      return startMfaSetup();
    default:
      say($("#signin-error"), "This sign-in step is not supported. Ask your administrator.");
      return undefined;
  }
}

async function startMfaSetup() {
  const pending = challenge();
  const association = await cognito().associateSoftwareToken(pending.session);
  pending.session = association.Session;
  const secret = association.SecretCode;
  $("#mfa-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
  const label = encodeURIComponent(`Quietline:${state.email}`);
  $("#mfa-uri").textContent = `otpauth://totp/${label}?secret=${secret}&issuer=Quietline`;
  state.demo?.enrolled(secret);
  step("mfa-setup-form");
}

/**
 * The form a submit event came from.
 * @param {SubmitEvent} event
 */
function submitted(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!(form instanceof HTMLFormElement)) throw new Error("a submit event outside a form");
  return form;
}

/**
 * Sign in with this device's passkey: the address names the account, the passkey (with
 * Face ID, a fingerprint or the device's PIN) is both factors; no password, no code.
 * @param {HTMLButtonElement} button
 */
async function passkeySignIn(button) {
  const email = $("#email", HTMLInputElement).value.trim();
  if (!email) return say($("#signin-error"), "Enter your email, then choose Sign in with a passkey.");
  button.disabled = true;
  try {
    state.email = email;
    say($("#signin-notice"), "");
    const started = await cognito().startPasskeySignIn(email);
    const options = started.ChallengeParameters?.passkey_options;
    if (started.ChallengeName !== "CUSTOM_CHALLENGE" || !options) throw new Error("no passkey challenge");
    const answer = await passkeys.signInAnswer(options);
    await next(await cognito().respond("CUSTOM_CHALLENGE", started.Session ?? "", { USERNAME: email, ANSWER: answer }));
  } catch (error) {
    const network = error instanceof CognitoError && error.code === "NetworkError";
    say(
      $("#signin-error"),
      network
        ? explain(error)
        : "That passkey was not accepted, or the request was cancelled. Try again, or sign in with your password and code.",
    );
  } finally {
    button.disabled = false;
  }
  return undefined;
}

function bindSignIn() {
  $("#password-form").addEventListener("submit", (event) => {
    const form = submitted(event);
    const email = $("#email", HTMLInputElement).value.trim();
    const password = $("#password", HTMLInputElement).value;
    if (!email || !password) return say($("#signin-error"), "Enter your email and password.");
    return withBusy(form, async () => {
      state.email = email;
      say($("#signin-notice"), "");
      const result = await cognito().signIn(email, password);
      $("#password", HTMLInputElement).value = "";
      await next(result);
    });
  });

  const passkeyButton = $("#passkey-sign-in", HTMLButtonElement);
  show(passkeyButton, passkeys.supported());
  passkeyButton.addEventListener("click", () => passkeySignIn(passkeyButton));

  $("#mfa-form").addEventListener("submit", (event) => {
    const form = submitted(event);
    const code = $("#mfa-code", HTMLInputElement).value.trim();
    if (!/^\d{6}$/.test(code)) return say($("#signin-error"), "Enter the 6-digit code.");
    return withBusy(form, async () => {
      const result = await cognito().respond("SOFTWARE_TOKEN_MFA", challenge().session, {
        USERNAME: state.email,
        SOFTWARE_TOKEN_MFA_CODE: code,
      });
      await next(result);
    });
  });

  $("#new-password-form").addEventListener("submit", (event) => {
    const form = submitted(event);
    const password = $("#new-password", HTMLInputElement).value;
    if (password !== $("#new-password-again", HTMLInputElement).value) {
      return say($("#signin-error"), "The two passwords are not the same.");
    }
    return withBusy(form, async () => {
      const result = await cognito().respond("NEW_PASSWORD_REQUIRED", challenge().session, {
        USERNAME: state.email,
        NEW_PASSWORD: password,
      });
      $("#new-password", HTMLInputElement).value = "";
      $("#new-password-again", HTMLInputElement).value = "";
      await next(result);
    });
  });

  $("#mfa-setup-form").addEventListener("submit", (event) => {
    const form = submitted(event);
    const code = $("#mfa-setup-code", HTMLInputElement).value.trim();
    if (!/^\d{6}$/.test(code)) return say($("#signin-error"), "Enter the 6-digit code.");
    return withBusy(form, async () => {
      const verified = await cognito().verifySoftwareToken(challenge().session, code);
      if (verified.Status !== "SUCCESS") throw new CognitoError("CodeMismatchException");
      const result = await cognito().respond("MFA_SETUP", verified.Session, {
        USERNAME: state.email,
      });
      await next(result);
    });
  });

  for (const button of $$("#signin-view .restart")) {
    button.addEventListener("click", () => restart());
  }
}

/** @param {AuthenticationResult} result */
async function signedIn(result) {
  state.challenge = null;
  if (!(await session.start(result))) {
    restart("Sign-in failed. Please try again.");
    return;
  }
  await enter();
}

/** Into the app with the session's token: after a sign-in, or a reload that resumed. */
async function enter() {
  /** @type {Me} */
  let me;
  try {
    me = /** @type {Me} */ (await session.api("GET", "/me"));
  } catch {
    if (session.signedIn()) session.end("Sign-in failed. Please try again.");
    return;
  }
  state.me = me;
  for (const input of $$("#signin-view input", HTMLInputElement)) input.value = "";
  $("#account-label").textContent = `${state.email || session.email()} (${me.role})`;
  show($("#app-nav"));
  show($("#account"));
  show($("#nav-admin"), me.role === "admin");
  show($("#signin-view"), false);
  // The practice may require a PIN or passkey before any client detail shows; a locked
  // session (a reload behind the lock) answers 423 and lock.js shows the lock screen.
  await lock.start();
  if (!session.signedIn()) return;
  urgent.watch(inbox.openConversation);
  await inbox.open(me);
  if (lock.isLocked()) return;
  goTo("inbox");
}

// --- app lock (lock.js decides when; these empty and rebuild the views) ----------------------
let reopen = /** @type {string | null} */ (null);

function lockApp() {
  reopen = inbox.openConversationId();
  inbox.close();
  urgent.close();
  appointments.close();
  admin.close();
  for (const id of ["#inbox-view", "#admin-view", "#appointments-view", "#app-nav", "#pin-setup", "#lock-now"]) {
    show($(id), false);
  }
}

async function unlockApp() {
  const me = state.me;
  if (!me) return;
  show($("#app-nav"));
  show($("#pin-setup"));
  show($("#lock-now"));
  urgent.watch(inbox.openConversation);
  await inbox.open(me);
  goTo("inbox");
  if (reopen) await inbox.openConversation(reopen, { focus: false }).catch(() => {});
  reopen = null;
}

/** @param {string} reason */
function signedOut(reason) {
  lock.stop();
  reopen = null;
  inbox.close();
  urgent.close();
  appointments.close();
  admin.close();
  state.me = null;
  show($("#inbox-view"), false);
  show($("#admin-view"), false);
  show($("#appointments-view"), false);
  show($("#app-nav"), false);
  show($("#account"), false);
  $("#account-label").textContent = "";
  idleWarning(null);
  show($("#signin-view"));
  restart(reason);
}

// --- views ---------------------------------------------------------------------------------
/** @param {"inbox" | "admin" | "appointments"} view */
function goTo(view) {
  show($("#inbox-view"), view === "inbox");
  show($("#admin-view"), view === "admin");
  show($("#appointments-view"), view === "appointments");
  for (const name of ["inbox", "admin", "appointments"]) {
    if (name === view) $(`#nav-${name}`).setAttribute("aria-current", "page");
    else $(`#nav-${name}`).removeAttribute("aria-current");
  }
  if (view === "admin") {
    if (state.me) admin.open(state.me);
  } else {
    admin.close();
  }
  if (view === "appointments") void appointments.load();
}

async function signOut() {
  try {
    // Ends every session of this user on the server too: their refresh tokens are
    // revoked and the API refuses tokens issued before now.
    await session.api("POST", "/me/sign-out");
  } catch {
    // Signed out locally regardless.
  }
  session.end("You signed out.");
}

function bindShell() {
  $("#nav-inbox").addEventListener("click", () => goTo("inbox"));
  $("#nav-admin").addEventListener("click", () => goTo("admin"));
  $("#nav-appointments").addEventListener("click", () => goTo("appointments"));
  $("#sign-out").addEventListener("click", () => signOut());
  $("#skip-link").addEventListener("click", (event) => {
    event.preventDefault(); // keep the address bar unchanged
    $("#main").focus();
  });
  $("#idle-stay").addEventListener("click", async () => {
    session.noteActivity();
    idleWarning(null);
    try {
      await session.api("GET", "/me"); // keeps the server-side session alive too
    } catch {
      // a 401 has already ended the session
    }
  });
}

/** @param {number | null} secondsLeftToLogoff null hides the warning */
function idleWarning(secondsLeftToLogoff) {
  const box = $("#idle-warning");
  const visible = secondsLeftToLogoff !== null;
  // While the warning shows, the rest of the page is out of reach (a modal dialog).
  for (const region of [$("header.topbar"), $("#main")]) region.inert = visible;
  if (!visible) {
    show(box, false);
    return;
  }
  $("#idle-seconds").textContent = String(secondsLeftToLogoff);
  if (box.hidden) {
    show(box);
    $("#idle-stay").focus();
  }
}

// --- local demo panel ----------------------------------------------------------------------
/** Local mode only: demo.js is never published, so a deployment never asks for it. */
async function loadDemo() {
  try {
    const demo = await import("./demo.js");
    if (await demo.start()) state.demo = demo;
  } catch {
    // no panel: the page works the same without it
  }
}

// --- start -----------------------------------------------------------------------------------
async function main() {
  bindSignIn();
  bindShell();
  inbox.bind();
  layout.bind();
  admin.bind();
  registerWorker(); // the installable app's offline shell (pwa.js); not awaited
  appointments.bind();
  schedule.bind();
  lock.bind({ lock: lockApp, unlock: unlockApp, signOut });
  /** @type {WebConfig} */
  let config;
  try {
    config = /** @type {WebConfig} */ (await loadJson("/app/config.json"));
  } catch {
    const offline = !navigator.onLine; // the installed app opened from its cached shell
    say(
      $("#signin-error"),
      offline
        ? "You are offline. Reload Quietline when you are back online to sign in."
        : "Quietline could not load its configuration. Reload the page.",
    );
    return;
  }
  state.cognito = new Cognito(config.cognito_endpoint, config.user_pool_client_id);
  session.configure(signedOut, config.api_base_url || "");
  session.watchIdle(config.idle_timeout_seconds, idleWarning);
  // A reload while the session lives: straight back in (the cookie is HttpOnly: only the
  // API can tell whether there is one).
  if (await session.resume()) await enter();
  document.body.dataset.ready = "true";
  if (config.local_mode) await loadDemo();
}

main();
