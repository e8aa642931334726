// @ts-check
// Calls in the thread: the call log merged among the messages, a voicemail player, the
// "Call" button (click-to-call), and each user's own forwarding number. Audio is fetched
// through the API with the Authorization header, played from a blob: URL that is revoked
// once played, and never cached or stored: no token, id or audio ever goes in a URL.

import { $, h, say, show, when } from "./dom.js";
import { ApiError, api, apiBlob, problem, sessionEnded } from "./session.js";

/** @import { Page } from "./session.js" */
/**
 * A call as GET /conversations/{id}/calls lists it (functions/handlers/api/calls.py).
 * @typedef {object} Call
 * @property {string} call_id
 * @property {"inbound" | "outbound"} direction
 * @property {string} status
 * @property {string | null} outcome
 * @property {string | null} answered_by
 * @property {string | null} placed_by
 * @property {number} duration_seconds
 * @property {string} created_at
 * @property {{ duration_seconds: number, content_type: string, transcript?: string | null } | null} voicemail
 */

/** The voicemail's transcript states (functions/logic/transcription.py), in words. */
const TRANSCRIPT_NOTES = /** @type {Record<string, string>} */ ({
  pending: "Transcribing…",
  failed: "Transcription failed. The voicemail itself is safe: play it.",
});

const state = {
  conversationId: /** @type {string | null} */ (null),
  pending: /** @type {Call[]} */ ([]), // fetched, not yet shown (older than the messages shown)
  /** @type {{ url: string, audio: HTMLAudioElement } | null} */
  playing: null,
  /** @type {(userId: string) => string} */
  nameOf: (userId) => userId,
};

const OUTCOMES = /** @type {Record<string, string>} */ ({
  no_answer: "Missed: no answer",
  busy: "Missed: busy",
  declined: "Missed: declined",
  failed: "Could not connect",
  caller_hung_up: "Caller hung up before anyone answered",
});

/** @param {number} seconds */
function minutes(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** @param {string} id */
const callsPath = (id) => `/conversations/${encodeURIComponent(id)}/calls`;

/**
 * Fetch the thread's calls (newest 50); they are shown as the messages around them are.
 * @param {string} conversationId
 */
export async function loadCalls(conversationId) {
  const page = /** @type {Page<Call>} */ (await api("GET", `${callsPath(conversationId)}?limit=50`));
  if (conversationId !== state.conversationId) stopPlaying();
  state.conversationId = conversationId;
  state.pending = page.items;
}

/**
 * The thread's rows oldest first: `messages` with the fetched calls at or after `since`
 * (every call left when `since` is null, the oldest page) merged among them by time.
 * @param {{ at: string, node: HTMLLIElement }[]} messages
 * @param {string | null} since the oldest message on this page, if older pages remain
 * @returns {HTMLLIElement[]}
 */
export function withCalls(messages, since) {
  const taken = state.pending.filter((c) => since === null || c.created_at >= since);
  state.pending = state.pending.filter((c) => !taken.includes(c));
  const calls = taken.map((call) => ({ at: call.created_at, node: callItem(call) }));
  return messages
    .concat(calls)
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((row) => row.node);
}

/** @param {Call} call */
function summary(call) {
  if (call.status === "ringing") return "Ringing…";
  if (call.status === "in_progress") return `In progress, answered by ${state.nameOf(call.answered_by || "")}`;
  if (call.outcome === "answered") {
    return `Answered by ${state.nameOf(call.answered_by || "")} · ${minutes(call.duration_seconds)}`;
  }
  if (call.voicemail) return "Missed: voicemail left";
  return OUTCOMES[call.outcome || ""] || "Ended";
}

/** @param {Call} call */
function callItem(call) {
  const what = call.direction === "inbound" ? "Incoming call" : "Outgoing call";
  const by = call.direction === "outbound" && call.placed_by ? ` by ${state.nameOf(call.placed_by)}` : "";
  const item = h(
    "li",
    { class: `message call ${call.direction}`, dataset: { callId: call.call_id } },
    h("p", { class: "message-meta" }, [what + by, when(call.created_at)].join(" · ")),
    h("p", { class: "call-summary" }, summary(call)),
  );
  if (call.voicemail) {
    const length = minutes(call.voicemail.duration_seconds);
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const button = h("button", { type: "button", class: "secondary play-voicemail" }, `Play voicemail (${length})`);
    button.addEventListener("click", () => play(call, item, button, error));
    item.append(button);
    const transcript = call.voicemail.transcript || "";
    if (transcript === "ready") {
      const read = h("button", { type: "button", class: "secondary read-transcript" }, "Read transcript");
      read.addEventListener("click", () => readTranscript(call, item, read, error));
      item.append(read);
    } else if (TRANSCRIPT_NOTES[transcript]) {
      item.append(h("p", { class: "transcript-note" }, TRANSCRIPT_NOTES[transcript]));
    }
    item.append(error);
  }
  return item;
}

/**
 * The voicemail's transcript, fetched through the staff API (audited like reading a
 * message) and shown as text under the voicemail; never put in a URL or stored.
 * @param {Call} call
 * @param {HTMLLIElement} item
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} error
 */
async function readTranscript(call, item, button, error) {
  const conversationId = state.conversationId;
  if (!conversationId) return;
  say(error, "");
  button.disabled = true;
  try {
    const answer = /** @type {{ status: string, text: string | null }} */ (
      await api("GET", `${callsPath(conversationId)}/${encodeURIComponent(call.call_id)}/transcript`)
    );
    if (conversationId !== state.conversationId) return;
    if (answer.status !== "ready" || answer.text === null) {
      say(error, TRANSCRIPT_NOTES[answer.status] || "No transcript yet.");
      return;
    }
    const shown = h("blockquote", { class: "voicemail-transcript" }, answer.text);
    item.querySelector(".voicemail-transcript")?.remove();
    button.replaceWith(shown);
  } catch (failure) {
    if (!sessionEnded(failure)) say(error, problem(failure));
  } finally {
    button.disabled = false;
  }
}

/** Revoke the playing voicemail's blob: URL and take its player out of the page. */
export function stopPlaying() {
  const playing = state.playing;
  if (!playing) return;
  state.playing = null;
  playing.audio.pause();
  playing.audio.removeAttribute("src");
  playing.audio.load(); // let go of the decoded audio too
  URL.revokeObjectURL(playing.url);
  playing.audio.remove();
}

/**
 * @param {Call} call
 * @param {HTMLLIElement} item
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} error
 */
async function play(call, item, button, error) {
  const conversationId = state.conversationId;
  if (!conversationId) return;
  stopPlaying();
  say(error, "");
  button.disabled = true;
  try {
    const audio = await apiBlob(`${callsPath(conversationId)}/${encodeURIComponent(call.call_id)}/voicemail`);
    if (!(audio instanceof Blob) || conversationId !== state.conversationId) return;
    const url = URL.createObjectURL(audio);
    const player = h("audio", { class: "voicemail-audio", controls: true, preload: "auto" });
    player.src = url;
    // Played once, then forgotten: the URL dies with the playback, a replay fetches again.
    player.addEventListener("ended", () => {
      if (state.playing?.audio === player) stopPlaying();
    });
    state.playing = { url, audio: player };
    item.append(player);
    await player.play().catch(() => {}); // autoplay refused: the controls are there
  } catch (failure) {
    if (!sessionEnded(failure)) say(error, problem(failure));
  } finally {
    button.disabled = false;
  }
}

// --- click-to-call -----------------------------------------------------------------------
async function callClient() {
  const conversationId = state.conversationId;
  if (!conversationId) return;
  const button = $("#call-client", HTMLButtonElement);
  say($("#call-error"), "");
  say($("#call-status"), "");
  button.disabled = true;
  try {
    await api("POST", callsPath(conversationId));
    say($("#call-status"), "Calling your phone now. Answer it and press 1: we then dial the client.");
    document.dispatchEvent(new CustomEvent("quietline:calls-changed"));
  } catch (failure) {
    if (sessionEnded(failure)) return;
    const field = failure instanceof ApiError ? (failure.data.errors || [])[0]?.field || "" : "";
    if (field.endsWith("forwarding_number")) {
      say($("#call-error"), "Set your phone number for calls first (Your phone for calls, on the left).");
    } else if (field === "voice") {
      say($("#call-error"), "Calling is turned off for this practice. An admin can turn it on.");
    } else {
      say($("#call-error"), problem(failure));
    }
  } finally {
    button.disabled = false;
  }
}

// --- the user's own forwarding number ----------------------------------------------------------
/** @param {SubmitEvent} event */
async function saveForwarding(event) {
  event.preventDefault();
  const input = $("#forwarding-number", HTMLInputElement);
  say($("#forwarding-error"), "");
  say($("#forwarding-status"), "");
  if (!input.value.trim()) return say($("#forwarding-error"), "Enter your cell phone number.");
  try {
    const answer = /** @type {{ ends_with: string }} */ (
      await api("PUT", "/me/forwarding-number", { phone_number: input.value.trim() })
    );
    input.value = "";
    say($("#forwarding-status"), `Saved. Calls ring your phone ending in ${answer.ends_with}.`);
  } catch (failure) {
    if (sessionEnded(failure)) return undefined;
    const invalid = failure instanceof ApiError && failure.status === 422;
    say($("#forwarding-error"), invalid ? "Check the number: for example (206) 555-0100 or +1 206 555 0100." : problem(failure));
  }
  return undefined;
}

async function removeForwarding() {
  say($("#forwarding-error"), "");
  say($("#forwarding-status"), "");
  try {
    await api("DELETE", "/me/forwarding-number");
    say($("#forwarding-status"), "Removed. Calls no longer ring your phone.");
  } catch (failure) {
    if (!sessionEnded(failure)) say($("#forwarding-error"), problem(failure));
  }
}

// --- lifecycle ---------------------------------------------------------------------------------
export function bind() {
  $("#call-client").addEventListener("click", callClient);
  $("#forwarding-form").addEventListener("submit", saveForwarding);
  $("#forwarding-remove").addEventListener("click", removeForwarding);
}

/**
 * A thread opened (or closed: null): the Call bar follows it.
 * @param {string | null} conversationId
 * @param {(userId: string) => string} nameOf who a user id is, in words
 */
export function openThread(conversationId, nameOf) {
  if (conversationId !== state.conversationId) {
    stopPlaying();
    state.pending = [];
    say($("#call-error"), "");
    say($("#call-status"), "");
  }
  state.conversationId = conversationId;
  state.nameOf = nameOf;
  show($("#call-bar"), conversationId !== null);
}

/** Signed out: nothing of a call stays in the page. */
export function close() {
  openThread(null, (userId) => userId);
  $("#forwarding-number", HTMLInputElement).value = "";
  say($("#forwarding-error"), "");
  say($("#forwarding-status"), "");
}
