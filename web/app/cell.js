// @ts-check
// The clinician's cell simulator (local mode only): the forwarding cell the practice's
// calls ring. It lists what the simulated voice carrier's switchboard rings on this number
// (GET /local/voice/calls), answers a screen the way a key press would (POST
// /local/voice/screen: accept = press 1) and hangs up (POST /local/voice/hangup). The
// number stays on the page: it is in no URL and no log.

import { $, h, say, show } from "./dom.js";
import { CALLS_URL } from "./phone_calls.js";

/** @import { SimCall } from "./phone_calls.js" */

const POLL_MS = 700;
const state = {
  number: "",
  /** @type {Map<string, string>} calls this cell answered: call id -> how it ended */
  mine: new Map(),
};

/** "(206) 555-0142" -> "+12065550142"; "" when it is not a number. */
function toE164(/** @type {string} */ typed) {
  const digits = typed.replace(/[\s().-]/g, "");
  if (/^\+\d{8,15}$/.test(digits)) return digits;
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  return "";
}

/**
 * @param {string} path
 * @param {Record<string, unknown>} body
 */
async function post(path, body) {
  say($("#cell-error"), "");
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    if (!response.ok) throw new Error(String(response.status));
  } catch {
    say($("#cell-error"), "The simulated carrier refused that; the call may have ended.");
  }
  await poll();
}

/** @param {number} seconds */
function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * What this cell shows for a call, or null when it does not concern this cell.
 * @param {SimCall} call
 */
function item(call) {
  const leg = call.legs.find((g) => g.role === "clinician" && g.to === state.number);
  if (!leg) return null;
  const client = call.legs.find((g) => g.role === "client");
  const heading = call.direction === "inbound" ? "Call for the practice" : "Your call to a client";
  /** @type {(Node | string)[]} */
  const body = [];
  if (leg.state === "ringing") {
    body.push(
      h("p", {}, `Incoming call from ${call.caller_id}`),
      h("p", { class: "screen-prompt" }, `“${call.prompt}”`),
      h(
        "div",
        { class: "call-buttons" },
        h("button", { type: "button", class: "primary small", onclick: () => screen(call, leg.user_id, true) }, "Accept (press 1)"),
        h("button", { type: "button", class: "danger small", onclick: () => screen(call, leg.user_id, false) }, "Decline"),
      ),
    );
  } else if (leg.state === "connected" && call.state === "connected") {
    state.mine.set(call.call_id, "Call ended.");
    body.push(
      h("p", { class: "call-state" }, `Connected · ${clock(call.connected_seconds)}`),
      h("button", { type: "button", class: "danger small", onclick: () => post("/local/voice/hangup", { call_id: call.call_id }) }, "Hang up"),
    );
  } else if (leg.state === "connected" && client) {
    state.mine.set(call.call_id, "Call ended.");
    body.push(
      h("p", { class: "call-state" }, "Ringing the client…"),
      h("button", { type: "button", class: "danger small", onclick: () => post("/local/voice/hangup", { call_id: call.call_id }) }, "Hang up"),
    );
  } else if (state.mine.has(call.call_id)) {
    const ending = call.outcome === "no_answer" ? "The client did not answer." : state.mine.get(call.call_id);
    body.push(h("p", { class: "call-state" }, ending || "Call ended."));
  } else {
    return null;
  }
  return h(
    "li",
    { class: "cell-call", dataset: { callId: call.call_id, state: leg.state } },
    h("p", {}, h("strong", {}, heading)),
    ...body,
  );
}

/**
 * @param {SimCall} call
 * @param {string} userId
 * @param {boolean} accepted
 */
function screen(call, userId, accepted) {
  if (!accepted) state.mine.set(call.call_id, "You declined.");
  return post("/local/voice/screen", { call_id: call.call_id, user_id: userId, accepted });
}

async function poll() {
  if (!state.number) return;
  /** @type {SimCall[]} */
  let calls;
  try {
    const response = await fetch(CALLS_URL, { cache: "no-store" });
    if (!response.ok) return;
    calls = await response.json();
  } catch {
    return; // the runtime may be restarting; try again next tick
  }
  // Keep the buttons the user may be pressing: redraw only when something changed.
  const items = calls.map(item).filter((node) => node !== null);
  const list = $("#cell-calls");
  // A call and the next one can read the same: their ids and states tell them apart.
  /** @param {Element} n */
  const key = (n) => (n instanceof HTMLElement ? `${n.dataset.callId}:${n.dataset.state}:${n.textContent}` : "");
  const before = [...list.children].map(key).join("|");
  const after = items.map(key).join("|");
  if (before !== after) list.replaceChildren(...items);
  show($("#cell-idle"), items.length === 0);
}

async function main() {
  try {
    const response = await fetch("/local/demo", { cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
  } catch {
    show($("#cell-unavailable"));
    for (const control of document.querySelectorAll("input, button")) {
      if (control instanceof HTMLInputElement || control instanceof HTMLButtonElement) control.disabled = true;
    }
    return;
  }
  const use = () => {
    const number = toE164($("#cell-number", HTMLInputElement).value);
    if (!number) {
      say($("#cell-status"), "Enter the cell's number, for example (206) 555-0142.");
      return false;
    }
    state.number = number;
    state.mine.clear();
    $("#cell-calls").replaceChildren();
    poll();
    return true;
  };
  $("#cell-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (use()) say($("#cell-status"), "Number set.");
  });
  use();
  setInterval(poll, POLL_MS);
  document.body.dataset.ready = "true";
}

main();
