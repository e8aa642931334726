// @ts-check
// Live updates: one WebSocket per signed-in inbox. The server only ever says which
// conversation changed (an opaque id, never a name, number or text); the inbox fetches
// what changed through the API. The socket authenticates with a single-use ticket sent as
// its first frame: no token or ticket is ever put in its URL. See docs/web.md.

import { ApiError, api } from "./session.js";

const PING_MS = 5 * 60_000; // API Gateway closes a socket idle for 10 minutes
const RETRY_MS = [1_000, 2_000, 5_000, 15_000, 30_000];

/**
 * @typedef {object} LiveListener
 * @property {(conversationId: string) => void} changed a conversation to re-fetch
 * @property {(up: boolean) => void} status the socket came up (authenticated) or went down
 */

/** @type {WebSocket | null} */
let socket = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let ping;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retry;
let attempts = 0;
let running = false;
let ready = false; // the server accepted the ticket

/** @param {LiveListener} listener */
export function start(listener) {
  stop();
  running = true;
  connect(listener);
}

export function stop() {
  running = false;
  clearTimeout(retry);
  clearInterval(ping);
  const open = socket;
  socket = null;
  open?.close(1000);
}

/** Whether the socket is up and authenticated. */
export function up() {
  return socket !== null && socket.readyState === WebSocket.OPEN && ready;
}

/**
 * The socket's URL: absolute from a deployment (the WebSocket API), a path on this page's
 * own server in local mode, so the page's origin (127.0.0.1 or localhost) is the socket's.
 * @param {string} url
 */
function socketUrl(url) {
  const resolved = new URL(url, location.href);
  if (resolved.protocol === "http:") resolved.protocol = "ws:";
  if (resolved.protocol === "https:") resolved.protocol = "wss:";
  return resolved.href;
}

/** @param {LiveListener} listener */
async function connect(listener) {
  /** @type {{ ticket: string, url: string }} */
  let answer;
  try {
    answer = /** @type {{ ticket: string, url: string }} */ (await api("POST", "/live/tickets"));
  } catch (error) {
    // Not configured (404) or signed out (401): stay on the fallback poll, no retries.
    if (error instanceof ApiError && (error.status === 404 || error.status === 401)) return;
    again(listener);
    return;
  }
  if (!running) return;
  const ws = new WebSocket(socketUrl(answer.url));
  socket = ws;
  ready = false;
  ws.addEventListener("open", () => ws.send(JSON.stringify({ action: "auth", ticket: answer.ticket })));
  ws.addEventListener("message", (event) => {
    /** @type {{ type?: unknown, conversation_id?: unknown }} */
    let frame;
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame.type === "ready") {
      ready = true;
      attempts = 0;
      clearInterval(ping);
      ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"action":"ping"}'), PING_MS);
      listener.status(true);
    } else if (frame.type === "changed" && typeof frame.conversation_id === "string") {
      listener.changed(frame.conversation_id);
    }
  });
  ws.addEventListener("close", () => {
    if (socket !== ws) return;
    socket = null;
    ready = false;
    clearInterval(ping);
    listener.status(false);
    if (running) again(listener);
  });
}

/** @param {LiveListener} listener */
function again(listener) {
  const wait = RETRY_MS[Math.min(attempts, RETRY_MS.length - 1)];
  attempts += 1;
  retry = setTimeout(() => running && connect(listener), wait);
}
