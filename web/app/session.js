// @ts-check
// The signed-in session: the ID token in memory only (a module variable: never
// localStorage, sessionStorage or a script-readable cookie), the API client, and the idle
// timer that signs out after the practice's idle timeout.
//
// Sign-in (cognito.js) hands over an ID token and a refresh token. The page gives the
// refresh token to the staff API's session route once (POST /session) and forgets it: the
// API keeps it in an HttpOnly, Secure, SameSite=Strict cookie scoped to /session, which no
// script can read (docs/access.md). Every API request sends the ID token; when one is
// about to go out with less than a minute of the token left, POST /session/refresh buys a
// new one with that cookie. A reload does the same (resume), so it no longer signs out
// while the session lives; the server refuses once the session idled out or was signed
// out everywhere. A refreshed token keeps the sign-in's origin_jti, the server's session
// id, so a refresh does not start a new server session (its idle clock runs on).

import { claims } from "./cognito.js";

/** @import { AuthenticationResult } from "./cognito.js" */

// --- what the staff API answers (docs/openapi.json; functions/logic/inbox.py's views) --
/** @typedef {"admin" | "clinician"} Role */
/**
 * @typedef {object} Me
 * @property {string} user_id
 * @property {string} tenant_id
 * @property {Role} role
 */
/**
 * @template T
 * @typedef {object} Page
 * @property {T[]} items
 * @property {string | null} [cursor]
 */
/** @typedef {"plain_sms" | "secure_link"} ConsentMode */
/**
 * @typedef {object} Conversation
 * @property {string} conversation_id
 * @property {string | null} display_name
 * @property {string} last_activity_at
 * @property {number} unread_count
 * @property {string | null} assigned_to
 * @property {boolean} opted_out
 * @property {ConsentMode | null} consent_mode
 */
/**
 * @typedef {object} Message
 * @property {string} message_id
 * @property {"inbound" | "outbound"} direction
 * @property {string} status
 * @property {string} body
 * @property {string} created_at
 * @property {string | null} failure_reason
 * @property {string | null} sent_by
 */
/**
 * @typedef {object} ConsentRecord
 * @property {ConsentMode} mode
 * @property {string} wording_version
 * @property {string} captured_at
 */
/**
 * @typedef {object} Contact
 * @property {string} contact_id
 * @property {string} phone_number
 * @property {string | null} display_name
 * @property {ConsentRecord | null} consent
 * @property {boolean} opted_out
 * @property {string | null} assigned_to
 */
/**
 * @typedef {object} Template
 * @property {string} template_id
 * @property {string} name
 * @property {string} body
 */
/**
 * @typedef {object} StaffUser
 * @property {string} user_id
 * @property {string} email
 * @property {Role} role
 * @property {boolean} enabled
 * @property {string} status
 */
/**
 * An error's JSON body: `error` always; `detail` for conflicts; `errors` for 422s.
 * @typedef {object} ApiErrorBody
 * @property {string} [error]
 * @property {string} [detail]
 * @property {{ field?: string, problem?: string }[]} [errors]
 */

/** @typedef {{ idToken: string, expiresAt: number }} Tokens */
/** What the session routes answer. @typedef {{ id_token: string, expires_at: number }} Renewed */

/** @type {Tokens | null} */
let tokens = null; // expiresAt in ms
// The session routes: on the pages' own origin (a deployment routes /session to the API
// there), so the SameSite=Strict cookie is first-party and goes nowhere else.
const SESSION_PATH = "/session";
let apiBase = ""; // same origin unless the deployment serves the API elsewhere
/** @type {(reason: string) => void} */
let onEnded = () => {};
let lastActivity = Date.now();
let lastRequest = 0;

export class ApiError extends Error {
  /**
   * @param {number} status 0 when the API could not be reached
   * @param {ApiErrorBody | null} data
   */
  constructor(status, data) {
    super((data && data.error) || `request failed (${status})`);
    this.status = status;
    /** @type {ApiErrorBody} */
    this.data = data || {};
  }
}

/**
 * Whether `error` is the 401 that has already ended the session: the sign-in screen says
 * why, so the view that made the request has nothing to add.
 * @param {unknown} error
 */
export function sessionEnded(error) {
  return error instanceof ApiError && error.status === 401;
}

/** The event the page hears when the API says the session is behind the app lock (423). */
export const LOCKED_EVENT = "quietline:locked";

/**
 * Whether `error` is the API's 423: the session is locked on the server (lock.js has been
 * told and shows the lock screen), so the view that made the request has nothing to add.
 * @param {unknown} error
 */
export function appLocked(error) {
  return error instanceof ApiError && error.status === 423;
}

/**
 * Words for an API failure that the person can act on (the inbox's error lines).
 * @param {unknown} error
 */
export function problem(error) {
  if (!(error instanceof ApiError)) return "Something went wrong. Please try again.";
  if (error.status === 0) return error.message;
  if (error.status === 409) return error.data.error === "conflict" ? error.data.detail || "That conflicts with a change someone else made." : error.message;
  if (error.status === 422) {
    const fields = (error.data.errors || []).map((e) => e.field).filter(Boolean);
    return fields.length ? `Check these fields: ${fields.join(", ")}.` : "Check what you entered.";
  }
  if (error.status === 403) return "You do not have permission to do that.";
  if (error.status === 404) return "Not found: it may have been deleted or reassigned.";
  if (error.status === 503) return "Quietline is busy. Try again in a moment.";
  return error.message || "Something went wrong. Please try again.";
}

/**
 * @param {(reason: string) => void} endedCallback
 * @param {string} [apiBaseUrl]
 */
export function configure(endedCallback, apiBaseUrl = "") {
  onEnded = endedCallback;
  apiBase = apiBaseUrl.replace(/\/+$/, "");
}

/**
 * Call a session route (same origin, the HttpOnly cookie goes along); null if refused.
 * @param {"POST" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<Renewed | null>}
 */
async function sessionRoute(method, path, body) {
  try {
    const response = await fetch(SESSION_PATH + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      keepalive: method === "DELETE", // a sign-out as the tab closes still clears it
    });
    if (!response.ok || response.status === 204) return null;
    return /** @type {Renewed} */ (await response.json());
  } catch {
    return null;
  }
}

/** @param {Renewed} renewed */
function use(renewed) {
  tokens = { idToken: renewed.id_token, expiresAt: renewed.expires_at * 1000 };
}

/**
 * A completed sign-in: hand the refresh token to the session route, then forget it.
 * False if the API refused it (the sign-in is not usable then).
 * @param {AuthenticationResult} result
 */
export async function start(result) {
  const renewed = result.RefreshToken
    ? await sessionRoute("POST", "", { refresh_token: result.RefreshToken })
    : null;
  if (!renewed) return false;
  use(renewed);
  lastActivity = Date.now();
  return true;
}

/** After a reload: the session the cookie still holds, if the server lets it live. */
export async function resume() {
  const renewed = await sessionRoute("POST", "/refresh");
  if (!renewed) return false;
  use(renewed);
  lastActivity = Date.now();
  return true;
}

/** The signed-in user's e-mail, from the ID token (for the account label). */
export function email() {
  return tokens ? claims(tokens.idToken).email || "" : "";
}

export function signedIn() {
  return tokens !== null;
}

/**
 * Forget the tokens. `reason` is shown on the sign-in screen.
 * @param {string} reason
 */
export function end(reason) {
  const wasSignedIn = tokens !== null;
  tokens = null;
  // The cookie is no use to a signed-out page: the API clears it (a reload signs in anew).
  void sessionRoute("DELETE", "");
  if (wasSignedIn) onEnded(reason);
}

/** The ID token for the next request, refreshed first if it has under a minute left. */
async function idToken() {
  const current = tokens;
  if (!current) throw new ApiError(401, { error: "signed out" });
  if (current.expiresAt - Date.now() < 60_000) {
    const renewed = await sessionRoute("POST", "/refresh");
    // Signed out while the refresh was under way: this request is not sent.
    if (tokens !== current) throw new ApiError(401, { error: "signed out" });
    // Refused: the API will answer 401 if the old token is no longer good.
    if (renewed) use(renewed);
  }
  return /** @type {Tokens} */ (tokens).idToken;
}

// One API request at a time from this page: replies arrive in the order they were asked
// for, and local mode (which runs the Lambda handler in-process, where it is not re-entrant:
// Lambda never hands one instance two events at once) is never sent overlapping requests.
/** @type {Promise<unknown>} */
let queue = Promise.resolve();

/**
 * Call the staff API. Any 401 ends the session (idle timeout, signed out elsewhere).
 * The answer's JSON (null for a 204); the caller names its shape.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {boolean} [keepalive] sent even if the page is being hidden or closed (the lock)
 * @returns {Promise<unknown>}
 */
export function api(method, path, body, keepalive = false) {
  const read = (/** @type {Response} */ response) => response.json();
  const result = queue.then(() => request(method, path, body, read, keepalive));
  queue = result.catch(() => {});
  return result;
}

/**
 * GET binary content (a voicemail's audio) from the staff API as a Blob, in the same queue
 * and with the same Authorization header: nothing goes in the URL, and the browser is told
 * not to cache it (the API answers no-store too).
 * @param {string} path
 * @returns {Promise<Blob>}
 */
export function apiBlob(path) {
  const result = queue.then(() => request("GET", path, undefined, (response) => response.blob()));
  queue = result.catch(() => {});
  return /** @type {Promise<Blob>} */ (result);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {(response: Response) => Promise<unknown>} read the answer's body, when it is a 2xx
 * @param {boolean} [keepalive]
 * @returns {Promise<unknown>}
 */
async function request(method, path, body, read, keepalive = false) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: await idToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      keepalive,
    });
  } catch {
    throw new ApiError(0, { error: "Cannot reach Quietline. Check your connection." });
  }
  lastRequest = Date.now();
  if (response.ok && response.status !== 204) return read(response).catch(() => null);
  /** @type {unknown} */
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401) {
    end("Your session ended. Please sign in again.");
    throw new ApiError(401, /** @type {ApiErrorBody | null} */ (data));
  }
  if (response.status === 423) document.dispatchEvent(new Event(LOCKED_EVENT));
  if (!response.ok) throw new ApiError(response.status, /** @type {ApiErrorBody | null} */ (data));
  return data;
}

// --- idle logoff -------------------------------------------------------------------------
export function noteActivity() {
  lastActivity = Date.now();
}

export function idleFor() {
  return Date.now() - lastActivity;
}

export function sinceLastRequest() {
  return Date.now() - lastRequest;
}

/**
 * Start the idle timer: `warn(secondsLeft)` when the warning should show (null to hide),
 * `end()` after `timeoutSeconds` without keyboard, pointer or touch input.
 * @param {number} timeoutSeconds
 * @param {(secondsLeft: number | null) => void} warn
 */
export function watchIdle(timeoutSeconds, warn) {
  const timeout = timeoutSeconds * 1000;
  const warnBefore = Math.min(60_000, timeout / 3);
  let throttled = 0;
  const mark = () => {
    const now = Date.now();
    if (now - throttled > 500) {
      throttled = now;
      noteActivity();
    }
  };
  for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "touchstart"]) {
    document.addEventListener(type, mark, { passive: true, capture: true });
  }
  setInterval(() => {
    if (!tokens) return warn(null);
    const idle = idleFor();
    if (idle >= timeout) {
      warn(null);
      end(`You were signed out after ${duration(timeoutSeconds)} without activity.`);
    } else if (idle >= timeout - warnBefore) {
      warn(Math.ceil((timeout - idle) / 1000));
    } else {
      warn(null);
    }
  }, 1000);
}

/** @param {number} seconds */
export function duration(seconds) {
  if (seconds % 60 === 0) {
    const minutes = seconds / 60;
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}
