// The signed-in session: tokens in memory only (a module variable: never localStorage,
// sessionStorage or cookies, so a reload or a closed tab signs out), the API client, and
// the idle timer that signs out after the practice's idle timeout.

import { claims } from "./cognito.js";

let tokens = null; // {idToken, refreshToken, expiresAt (ms)}
let cognito = null;
let apiBase = ""; // same origin unless the deployment serves the API elsewhere
let onEnded = () => {};
let lastActivity = Date.now();
let lastRequest = 0;

export class ApiError extends Error {
  constructor(status, data) {
    super((data && data.error) || `request failed (${status})`);
    this.status = status;
    this.data = data || {};
  }
}

export function configure(cognitoClient, endedCallback, apiBaseUrl = "") {
  cognito = cognitoClient;
  onEnded = endedCallback;
  apiBase = apiBaseUrl.replace(/\/+$/, "");
}

export function start(result) {
  tokens = {
    idToken: result.IdToken,
    refreshToken: result.RefreshToken || null,
    expiresAt: (claims(result.IdToken).exp || 0) * 1000,
  };
  lastActivity = Date.now();
}

export function signedIn() {
  return tokens !== null;
}

/** Forget the tokens. `reason` is shown on the sign-in screen. */
export function end(reason) {
  const wasSignedIn = tokens !== null;
  tokens = null;
  if (wasSignedIn) onEnded(reason);
}

async function idToken() {
  if (!tokens) throw new ApiError(401, { error: "signed out" });
  // Refresh a minute before expiry; the refreshed token keeps the sign-in's session.
  if (tokens.refreshToken && tokens.expiresAt - Date.now() < 60_000) {
    try {
      const result = (await cognito.refresh(tokens.refreshToken)).AuthenticationResult;
      tokens.idToken = result.IdToken;
      tokens.expiresAt = (claims(result.IdToken).exp || 0) * 1000;
    } catch {
      // The API will answer 401 if the old token is no longer good.
    }
  }
  return tokens.idToken;
}

// One API request at a time from this page: replies arrive in the order they were asked
// for, and local mode (which runs the Lambda handler in-process, where it is not re-entrant:
// Lambda never hands one instance two events at once) is never sent overlapping requests.
let queue = Promise.resolve();

/** Call the staff API. Any 401 ends the session (idle timeout, signed out elsewhere). */
export function api(method, path, body) {
  const result = queue.then(() => request(method, path, body));
  queue = result.catch(() => {});
  return result;
}

async function request(method, path, body) {
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
    });
  } catch {
    throw new ApiError(0, { error: "Cannot reach Quietline. Check your connection." });
  }
  lastRequest = Date.now();
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401) {
    end("Your session ended. Please sign in again.");
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
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

export function duration(seconds) {
  if (seconds % 60 === 0) {
    const minutes = seconds / 60;
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}
