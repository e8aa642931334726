// The inbox's entry point: configuration, sign-in (password, then the authenticator code;
// first time: new password and authenticator enrollment), the local demo panel, switching
// between inbox and admin, and idle logoff.

import { Cognito, explain } from "./cognito.js";
import { $, clear, h, say, show } from "./dom.js";
import * as session from "./session.js";
import { totp, secondsLeft } from "./totp.js";
import * as inbox from "./inbox.js";
import * as admin from "./admin.js";

const state = {
  config: null,
  cognito: null,
  email: "",
  challenge: null, // {name, session}
  demo: null,
  demoUser: null,
  me: null,
};

async function loadJson(path) {
  const response = await fetch(path, { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// --- sign-in -------------------------------------------------------------------------------
const forms = ["password-form", "mfa-form", "new-password-form", "mfa-setup-form"];

function step(formId) {
  for (const id of forms) show($(`#${id}`), id === formId);
  say($("#signin-error"), "");
  const first = $(`#${formId}`).querySelector("input:not([type=hidden])");
  if (first) first.focus();
  updateDemoCodeButton();
}

function restart(notice) {
  state.challenge = null;
  for (const input of document.querySelectorAll("#signin-view input")) input.value = "";
  say($("#signin-notice"), notice || "");
  step("password-form");
}

async function withBusy(form, work) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    say($("#signin-error"), explain(error));
  } finally {
    button.disabled = false;
  }
}

async function next(result) {
  if (result.AuthenticationResult) return signedIn(result.AuthenticationResult);
  state.challenge = { name: result.ChallengeName, session: result.Session };
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
  const association = await state.cognito.associateSoftwareToken(state.challenge.session);
  state.challenge.session = association.Session;
  const secret = association.SecretCode;
  $("#mfa-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
  const label = encodeURIComponent(`Quietline:${state.email}`);
  $("#mfa-uri").textContent = `otpauth://totp/${label}?secret=${secret}&issuer=Quietline`;
  state.demoUser = state.demoUser && { ...state.demoUser, totp_secret: secret };
  step("mfa-setup-form");
}

function bindSignIn() {
  $("#password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const email = $("#email").value.trim();
    const password = $("#password").value;
    if (!email || !password) return say($("#signin-error"), "Enter your email and password.");
    return withBusy(form, async () => {
      state.email = email;
      say($("#signin-notice"), "");
      const result = await state.cognito.signIn(email, password);
      $("#password").value = "";
      await next(result);
    });
  });

  $("#mfa-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("#mfa-code").value.trim();
    if (!/^\d{6}$/.test(code)) return say($("#signin-error"), "Enter the 6-digit code.");
    return withBusy(event.currentTarget, async () => {
      const result = await state.cognito.respond("SOFTWARE_TOKEN_MFA", state.challenge.session, {
        USERNAME: state.email,
        SOFTWARE_TOKEN_MFA_CODE: code,
      });
      await next(result);
    });
  });

  $("#new-password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const password = $("#new-password").value;
    if (password !== $("#new-password-again").value) {
      return say($("#signin-error"), "The two passwords are not the same.");
    }
    return withBusy(event.currentTarget, async () => {
      const result = await state.cognito.respond("NEW_PASSWORD_REQUIRED", state.challenge.session, {
        USERNAME: state.email,
        NEW_PASSWORD: password,
      });
      $("#new-password").value = "";
      $("#new-password-again").value = "";
      await next(result);
    });
  });

  $("#mfa-setup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("#mfa-setup-code").value.trim();
    if (!/^\d{6}$/.test(code)) return say($("#signin-error"), "Enter the 6-digit code.");
    return withBusy(event.currentTarget, async () => {
      const verified = await state.cognito.verifySoftwareToken(state.challenge.session, code);
      if (verified.Status !== "SUCCESS") throw { code: "CodeMismatchException" };
      const result = await state.cognito.respond("MFA_SETUP", verified.Session, {
        USERNAME: state.email,
      });
      await next(result);
    });
  });

  for (const button of document.querySelectorAll("#signin-view .restart")) {
    button.addEventListener("click", () => restart());
  }
}

async function signedIn(result) {
  session.start(result);
  state.challenge = null;
  try {
    state.me = await session.api("GET", "/me");
  } catch {
    if (session.signedIn()) session.end("Sign-in failed. Please try again.");
    return;
  }
  for (const input of document.querySelectorAll("#signin-view input")) input.value = "";
  $("#account-label").textContent = `${state.email} (${state.me.role})`;
  show($("#app-nav"));
  show($("#account"));
  show($("#nav-admin"), state.me.role === "admin");
  show($("#signin-view"), false);
  await inbox.open(state.me);
  goTo("inbox");
}

function signedOut(reason) {
  inbox.close();
  admin.close();
  state.me = null;
  show($("#inbox-view"), false);
  show($("#admin-view"), false);
  show($("#app-nav"), false);
  show($("#account"), false);
  $("#account-label").textContent = "";
  idleWarning(null);
  show($("#signin-view"));
  restart(reason);
}

// --- views ---------------------------------------------------------------------------------
function goTo(view) {
  const toInbox = view === "inbox";
  show($("#inbox-view"), toInbox);
  show($("#admin-view"), !toInbox);
  const [on, off] = toInbox ? ["#nav-inbox", "#nav-admin"] : ["#nav-admin", "#nav-inbox"];
  $(on).setAttribute("aria-current", "page");
  $(off).removeAttribute("aria-current");
  if (!toInbox) {
    admin.open(state.me);
  } else {
    admin.close();
  }
}

function bindShell() {
  $("#nav-inbox").addEventListener("click", () => goTo("inbox"));
  $("#nav-admin").addEventListener("click", () => goTo("admin"));
  $("#sign-out").addEventListener("click", async () => {
    try {
      // Ends this user's sessions on the server too (refresh tokens revoked).
      await session.api("POST", "/me/sign-out");
    } catch {
      // Signed out locally regardless.
    }
    session.end("You signed out.");
  });
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
async function loadDemo() {
  try {
    state.demo = await loadJson("/local/demo");
  } catch {
    return; // not local mode: no panel
  }
  const list = $("#demo-users");
  clear(list);
  for (const user of state.demo.users) {
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => {
              state.demoUser = user;
              $("#email").value = user.email;
              $("#password").value = user.password;
              refreshDemoCode();
              $("#password-form").querySelector("button[type=submit]").focus();
            },
          },
          `Use the demo ${user.role}`,
        ),
        " ",
        h("code", {}, user.email),
        h("br"),
        h("span", { class: "muted" }, "Password: "),
        h("code", {}, user.password),
      ),
    );
  }
  show($("#demo-panel"));
  $("#demo-fill-code").addEventListener("click", async () => {
    if (!state.demoUser) return;
    const target = $("#mfa-form").hidden ? $("#mfa-setup-code") : $("#mfa-code");
    target.value = await totp(state.demoUser.totp_secret);
    target.form.querySelector("button[type=submit]").focus();
  });
  setInterval(refreshDemoCode, 1000);
}

async function refreshDemoCode() {
  if (!state.demoUser) return;
  show($("#demo-totp"));
  $("#demo-totp-user").textContent = state.demoUser.email;
  $("#demo-totp-code").textContent = await totp(state.demoUser.totp_secret);
  $("#demo-totp-left").textContent = `(changes in ${secondsLeft()} s)`;
  updateDemoCodeButton();
}

function updateDemoCodeButton() {
  const atCodeStep = !$("#mfa-form").hidden || !$("#mfa-setup-form").hidden;
  show($("#demo-fill-code"), Boolean(state.demoUser) && atCodeStep);
}

// --- start -----------------------------------------------------------------------------------
async function main() {
  bindSignIn();
  bindShell();
  inbox.bind();
  admin.bind();
  try {
    state.config = await loadJson("/app/config.json");
  } catch {
    say($("#signin-error"), "Quietline could not load its configuration. Reload the page.");
    return;
  }
  state.cognito = new Cognito(state.config.cognito_endpoint, state.config.user_pool_client_id);
  session.configure(state.cognito, signedOut, state.config.api_base_url || "");
  session.watchIdle(state.config.idle_timeout_seconds, idleWarning);
  document.body.dataset.ready = "true";
  await loadDemo();
}

main();
