// @ts-check
// Local mode only: the sign-in screen's demo panel. It lists the demo accounts from the
// `/local/demo` probe, fills the form for one, and shows that account's current TOTP code
// (totp.js), standing in for the authenticator app a person would use. main.js imports
// this module only when config.json says `local_mode`; `quietline web publish` never
// uploads it, nor totp.js (infra/web_policy.py: LOCAL_ONLY_ASSETS).

import { $, h, show } from "./dom.js";
import { totp, secondsLeft } from "./totp.js";

/**
 * @typedef {object} DemoUser
 * @property {string} email
 * @property {string} password
 * @property {"admin" | "clinician"} role
 * @property {string} totp_secret
 */
/**
 * What `/local/demo` answers (local/static.py: demo_info()).
 * @typedef {object} DemoInfo
 * @property {string[]} practice_numbers
 * @property {string} business_number
 * @property {DemoUser[]} users
 * @property {string} aws_sms_inbound_url
 * @property {string} outbox_url
 * @property {string} phone_url
 * @property {number} idle_timeout_seconds
 */

/** @type {DemoUser | null} */
let chosen = null;

/** @returns {Promise<DemoInfo | null>} null when this is not local mode */
async function probe() {
  try {
    const response = await fetch("/local/demo", { cache: "no-store", credentials: "omit" });
    if (!response.ok) return null;
    return /** @type {DemoInfo} */ (await response.json());
  } catch {
    return null;
  }
}

/** @param {DemoUser} user */
function userItem(user) {
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: "secondary",
        onclick: () => {
          chosen = user;
          $("#email", HTMLInputElement).value = user.email;
          $("#password", HTMLInputElement).value = user.password;
          refreshCode();
          $("#password-form button[type=submit]").focus();
        },
      },
      `Use the demo ${user.role}`,
    ),
    " ",
    h("code", {}, user.email),
    h("br"),
    h("span", { class: "muted" }, "Password: "),
    h("code", {}, user.password),
  );
}

/** @param {DemoInfo} demo */
function panel(demo) {
  return h(
    "aside",
    { id: "demo-panel", class: "card demo-panel", "aria-labelledby": "demo-title" },
    h("h2", { id: "demo-title" }, "Local demo"),
    h(
      "p",
      {},
      "This is Quietline's ",
      h("strong", {}, "local mode"),
      ": AWS is simulated on this machine and no real texts are sent. Use synthetic data only.",
    ),
    h(
      "ol",
      { class: "steps" },
      h(
        "li",
        {},
        "Pick a demo account below (it fills in the form), then ",
        h("em", {}, "Continue"),
        ".",
      ),
      h(
        "li",
        {},
        "At the code step, use ",
        h("em", {}, "Fill in the current code"),
        ": it is what an authenticator app would show for that account's TOTP secret.",
      ),
      h(
        "li",
        {},
        "Text the practice as a client from the ",
        h("a", { href: "/phone", target: "_blank", rel: "noopener" }, "phone simulator"),
        "; the conversation appears in the inbox.",
      ),
    ),
    h("ul", { id: "demo-users", class: "demo-users" }, demo.users.map(userItem)),
    h(
      "p",
      { class: "totp", id: "demo-totp", hidden: true },
      "Current code for ",
      h("span", { id: "demo-totp-user" }),
      ": ",
      h("code", { id: "demo-totp-code" }),
      " ",
      h("span", { class: "muted", id: "demo-totp-left" }),
    ),
    h(
      "button",
      { type: "button", class: "secondary", id: "demo-fill-code", hidden: true, onclick: fillCode },
      "Fill in the current code",
    ),
  );
}

async function fillCode() {
  if (!chosen) return;
  const step = $("#mfa-form").hidden ? "mfa-setup" : "mfa";
  $(`#${step}-code`, HTMLInputElement).value = await totp(chosen.totp_secret);
  $(`#${step}-form button[type=submit]`).focus();
}

async function refreshCode() {
  if (!chosen) return;
  show($("#demo-totp"));
  $("#demo-totp-user").textContent = chosen.email;
  $("#demo-totp-code").textContent = await totp(chosen.totp_secret);
  $("#demo-totp-left").textContent = `(changes in ${secondsLeft()} s)`;
  stepShown();
}

/**
 * Show the panel if `/local/demo` answers; false if it does not (then nothing changes).
 * @returns {Promise<boolean>}
 */
export async function start() {
  const demo = await probe();
  if (!demo) return false;
  $("#signin-view").append(panel(demo));
  setInterval(refreshCode, 1000);
  return true;
}

/** A sign-in step is showing: offer "Fill in the current code" at the code steps only. */
export function stepShown() {
  const button = document.querySelector("#demo-fill-code");
  if (!(button instanceof HTMLElement)) return;
  const atCodeStep = !$("#mfa-form").hidden || !$("#mfa-setup-form").hidden;
  show(button, Boolean(chosen) && atCodeStep);
}

/**
 * An invited demo user is enrolling: from now on its code comes from the new secret.
 * @param {string} secret
 */
export function enrolled(secret) {
  chosen = chosen && { ...chosen, totp_secret: secret };
}
