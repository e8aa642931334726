// @ts-check
// The client's secure-message page (/s#<token>): text me a code, enter it, read the
// message, reply. No sign-in, no storage: the session lives in this page's memory only,
// so closing or reloading the page ends it. The token is in the URL's fragment, which the
// browser never sends to a server (no CDN or server log holds it); the page takes it out
// of the address bar at once, hands it to the API itself and sends no referrer anywhere.

import { $, say, show, when } from "./dom.js";

/**
 * What the secure-link API answers (functions/handlers/secure_link.py): `session` from
 * verify, `attempts_left` with a wrong code, the message's fields from message.
 * @typedef {object} SecureAnswer
 * @property {string} [session]
 * @property {number} [attempts_left]
 * @property {string} [practice]
 * @property {string} [body]
 * @property {string} [sent_at]
 */

const token = decodeURIComponent(location.hash.slice(1));
// Off the address bar and out of the history: a shared computer keeps no usable link.
if (location.hash) history.replaceState(null, "", location.pathname);
let base = `/secure/${encodeURIComponent(token)}`;
/** @type {string | null} */
let secureSession = null;

/**
 * @param {string} method
 * @param {string} step
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, data: SecureAnswer }>}
 */
async function call(method, step, body) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (secureSession) headers["X-Secure-Session"] = secureSession;
  const response = await fetch(`${base}/${step}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
  });
  /** @type {SecureAnswer} */
  const data = await response.json().catch(() => ({}));
  return { status: response.status, data };
}

/** @param {string | null} stepId */
function only(stepId) {
  for (const id of ["step-start", "step-code", "step-message"]) show($(`#${id}`), id === stepId);
}

/** @param {string} text */
function finished(text) {
  secureSession = null;
  only(null);
  $("#message-body").textContent = "";
  $("#reply-body", HTMLTextAreaElement).value = "";
  say($("#secure-error"), "");
  say($("#secure-status"), text);
  $("#secure-title").focus();
}

/**
 * Answers that end this link: expired or used (410), too many wrong codes (423).
 * @param {number} status
 */
function terminal(status) {
  if (status === 410) {
    finished("");
    say($("#secure-error"), "This link is no longer valid. Ask your care team to send the message again.");
    return true;
  }
  if (status === 423) {
    finished("");
    say(
      $("#secure-error"),
      "This link is locked after too many wrong codes. Ask your care team to send the message again.",
    );
    return true;
  }
  return false;
}

async function sendCode() {
  say($("#secure-error"), "");
  say($("#secure-status"), "");
  const { status } = await call("POST", "challenge");
  if (terminal(status)) return;
  if (status !== 200) {
    say($("#secure-error"), "We could not send a code just now. Please try again in a minute.");
    return;
  }
  only("step-code");
  say($("#secure-status"), "Code sent.");
  $("#code", HTMLInputElement).value = "";
  $("#code").focus();
}

/** @param {SubmitEvent} event */
async function verify(event) {
  event.preventDefault();
  say($("#secure-error"), "");
  const code = $("#code", HTMLInputElement).value.trim();
  if (!/^\d{6}$/.test(code)) {
    say($("#secure-error"), "Enter the 6-digit code from the text message.");
    return;
  }
  const { status, data } = await call("POST", "verify", { code });
  if (terminal(status)) return;
  if (status === 401) {
    const left = Number(data.attempts_left);
    say(
      $("#secure-error"),
      `That code is not right or has expired. ${left === 1 ? "1 attempt" : `${left} attempts`} left.`,
    );
    $("#code", HTMLInputElement).select();
    return;
  }
  if (status !== 200) {
    say($("#secure-error"), "Something went wrong. Please try again.");
    return;
  }
  secureSession = data.session ?? null;
  await showMessage();
}

async function showMessage() {
  const { status, data } = await call("GET", "message");
  if (terminal(status)) return;
  if (status === 401) return expired();
  if (status !== 200) {
    say($("#secure-error"), "The message could not be opened. Please try again.");
    return;
  }
  $("#message-practice").textContent = `From ${data.practice}`;
  $("#message-sent").textContent = when(data.sent_at);
  $("#message-body").textContent = data.body ?? "";
  say($("#secure-status"), "");
  only("step-message");
  $("#secure-title").focus();
}

function expired() {
  secureSession = null;
  $("#message-body").textContent = "";
  only("step-start");
  say($("#secure-error"), "Your session ended. Text yourself a new code to continue.");
}

/** @param {SubmitEvent} event */
async function reply(event) {
  event.preventDefault();
  say($("#secure-error"), "");
  const body = $("#reply-body", HTMLTextAreaElement).value;
  if (!body.trim()) {
    say($("#secure-error"), "Write a reply first.");
    return;
  }
  const { status } = await call("POST", "reply", { body });
  if (terminal(status)) return;
  if (status === 401) return expired();
  if (status !== 202) {
    say($("#secure-error"), "Your reply was not sent. Please try again.");
    return;
  }
  $("#reply-body", HTMLTextAreaElement).value = "";
  say($("#secure-status"), "Reply sent. Your care team will see it in Quietline.");
}

try {
  // Where the secure-link API lives: its own API when deployed (apart from the staff
  // API), the same origin locally. A config without the field predates the split.
  const response = await fetch("/app/config.json", { cache: "no-store", credentials: "omit" });
  /** @type {{ api_base_url?: string, secure_api_base_url?: string }} */
  const config = response.ok ? await response.json() : {};
  const api = config.secure_api_base_url || config.api_base_url;
  if (api) base = api.replace(/\/+$/, "") + base;
} catch {
  // same origin
}

$("#send-code").addEventListener("click", sendCode);
$("#resend-code").addEventListener("click", sendCode);
$("#step-code").addEventListener("submit", verify);
$("#reply-form").addEventListener("submit", reply);
$("#done").addEventListener("click", () => finished("Done. You can close this page."));
document.body.dataset.ready = "true";
