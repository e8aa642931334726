// @ts-check
// The phone simulator's calls (local mode only): call the practice as the client, and take
// the calls a clinician places from the inbox. It plays the client's side of the simulated
// voice carrier (local/sim_voice.py) and reads what rings from its switchboard
// (GET /local/voice/calls). Nothing here logs a number; none goes in a URL.

import { $, say, show } from "./dom.js";

/**
 * A call on the simulated carrier's switchboard (local/sim_switchboard.py: _view).
 * @typedef {object} SimCall
 * @property {string} call_id
 * @property {"inbound" | "outbound"} direction
 * @property {"ringing" | "connected" | "voicemail" | "ended"} state
 * @property {string} caller_id the business number every rung phone shows
 * @property {string} client
 * @property {string} prompt
 * @property {string} placed_by
 * @property {string} answered_by
 * @property {string} outcome
 * @property {string} greeting
 * @property {number} connected_seconds
 * @property {{ to: string, role: string, user_id: string, state: string }[]} legs
 */
/** @typedef {{ number: string, practice: string }} Line */

export const CALLS_URL = "/local/voice/calls";
const POLL_MS = 700;
const TONE_SECONDS = 3;

const ENDINGS = /** @type {Record<string, string>} */ ({
  answered: "Call ended.",
  voicemail: "Message left. The practice will see it in the inbox.",
  declined: "Call declined.",
  caller_hung_up: "You hung up.",
  no_answer: "No answer.",
});

const state = {
  /** @type {() => Line} */
  line: () => ({ number: "", practice: "" }),
  /** The call this phone is on (placed or answered), by the carrier's call id. */
  callId: "",
  /** A click-to-call ringing this phone, not answered yet. */
  incomingId: "",
  /** @type {Set<string>} calls this phone already turned down or finished */
  done: new Set(),
  /** @type {MediaRecorder | null} */
  recorder: null,
};

/**
 * @param {string} path
 * @param {Record<string, unknown>} body
 * @returns {Promise<any>}
 */
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    cache: "no-store",
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

/** @param {number} seconds */
function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Show only these buttons, and say where the call is.
 * @param {string} message
 * @param {string[]} buttons ids of the buttons to show
 */
function render(message, buttons) {
  for (const id of ["call-practice", "answer-call", "decline-call", "leave-voicemail", "record-tone", "record-mic", "hang-up"]) {
    show($(`#${id}`), buttons.includes(id));
  }
  say($("#call-state"), message);
}

/** @param {string} greeting */
function showGreeting(greeting) {
  const box = $("#call-greeting");
  box.textContent = greeting;
  show(box, Boolean(greeting));
}

/** @param {string} callId */
function setCall(callId) {
  state.callId = callId;
  $("#call-panel").dataset.callId = callId;
}

/** @param {SimCall} call */
function renderCall(call) {
  $("#call-panel").dataset.state = call.state;
  if (call.state === "ringing") {
    showGreeting("");
    render("Ringing…", call.direction === "inbound" ? ["leave-voicemail", "hang-up"] : ["hang-up"]);
  } else if (call.state === "connected") {
    showGreeting("");
    render(`Connected · ${clock(call.connected_seconds)}`, ["hang-up"]);
  } else if (call.state === "voicemail") {
    showGreeting(call.greeting);
    const buttons = state.recorder ? ["hang-up"] : ["record-tone", "hang-up"];
    if (!state.recorder && micAvailable()) buttons.push("record-mic");
    render(state.recorder ? "Recording from the microphone… press Hang up to finish." : "Leave your message after the tone.", buttons);
  } else {
    finish(ENDINGS[call.outcome] || "Call ended.");
  }
}

/** @param {string} message */
function finish(message) {
  if (state.callId) state.done.add(state.callId);
  setCall("");
  state.incomingId = "";
  showGreeting("");
  $("#call-panel").dataset.state = "ended";
  render(message, ["call-practice"]);
}

/** @param {SimCall[]} calls */
function ringingHere(calls) {
  const { number } = state.line();
  return calls.find(
    (c) =>
      c.direction === "outbound" &&
      !state.done.has(c.call_id) &&
      c.legs.some((leg) => leg.role === "client" && leg.to === number && leg.state === "ringing"),
  );
}

async function poll() {
  /** @type {SimCall[]} */
  let calls;
  try {
    const response = await fetch(CALLS_URL, { cache: "no-store" });
    if (!response.ok) return;
    calls = await response.json();
  } catch {
    return; // the runtime may be restarting; try again next tick
  }
  if (state.callId) {
    const call = calls.find((c) => c.call_id === state.callId);
    if (call) renderCall(call);
    else finish("Call ended.");
    return;
  }
  const incoming = ringingHere(calls);
  if (incoming) {
    state.incomingId = incoming.call_id;
    $("#call-panel").dataset.callId = incoming.call_id;
    $("#call-panel").dataset.state = "incoming";
    render(`Incoming call from ${incoming.caller_id}`, ["answer-call", "decline-call"]);
  } else if (state.incomingId) {
    finish("Missed call.");
  }
}

/** @param {() => Promise<void>} action */
async function guarded(action) {
  say($("#call-error"), "");
  try {
    await action();
  } catch {
    say($("#call-error"), "The simulated carrier refused that. Is local mode still running?");
  }
  await poll();
}

async function callPractice() {
  const { number, practice } = state.line();
  state.done.clear();
  const plan = await post("/local/voice/incoming", { from: number, to: practice });
  if (plan.action === "reject") {
    render("The practice is not taking calls on this number.", ["call-practice"]);
    return;
  }
  setCall(plan.call_id);
}

function micAvailable() {
  return typeof MediaRecorder !== "undefined" && Boolean(navigator.mediaDevices?.getUserMedia);
}

/**
 * The microphone's recording as a 16-bit mono WAV at 8 kHz (telephone audio): Chromium
 * records WebM/Opus, which the voicemail store does not take.
 * @param {Blob} recording
 */
async function toWav(recording) {
  const decoded = await new AudioContext().decodeAudioData(await recording.arrayBuffer());
  const rate = 8000;
  const frames = Math.max(1, Math.ceil(decoded.duration * rate));
  const offline = new OfflineAudioContext(1, frames, rate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const samples = (await offline.startRendering()).getChannelData(0);
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (/** @type {number} */ at, /** @type {string} */ value) => {
    for (let i = 0; i < value.length; i += 1) view.setUint8(at + i, value.charCodeAt(i));
  };
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((sample, i) => view.setInt16(44 + i * 2, Math.max(-1, Math.min(1, sample)) * 0x7fff, true));
  const bytes = new Uint8Array(view.buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { audio: btoa(binary), seconds: Math.max(1, Math.round(decoded.duration)) };
}

async function recordFromMicrophone() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  /** @type {Blob[]} */
  const chunks = [];
  const callId = state.callId;
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", () => {
    for (const track of stream.getTracks()) track.stop();
    state.recorder = null;
    guarded(async () => {
      const { audio, seconds } = await toWav(new Blob(chunks, { type: recorder.mimeType }));
      await post("/local/voice/voicemail", { call_id: callId, audio_base64: audio, seconds: Math.min(seconds, 30) });
      finish(ENDINGS.voicemail);
    });
  });
  state.recorder = recorder;
  recorder.start();
}

async function hangUp() {
  if (state.recorder) {
    state.recorder.stop(); // the stop handler stores the message
    return;
  }
  const callId = state.callId || state.incomingId;
  if (!callId) return;
  state.done.add(callId);
  const wasVoicemail = $("#call-panel").dataset.state === "voicemail";
  if (!wasVoicemail) await post("/local/voice/hangup", { call_id: callId });
  finish(wasVoicemail ? "You hung up without leaving a message." : "Call ended.");
}

/**
 * Wire the call panel and start watching the switchboard.
 * @param {() => Line} line this phone's number and the practice's, as set on the page
 */
export function startCalls(line) {
  state.line = line;
  render("No call.", ["call-practice"]);
  $("#call-practice").addEventListener("click", () => guarded(callPractice));
  $("#leave-voicemail").addEventListener("click", () =>
    guarded(() => post("/local/voice/finished", { call_id: state.callId, outcome: "no_answer" })),
  );
  $("#record-tone").addEventListener("click", () =>
    guarded(async () => {
      await post("/local/voice/voicemail", { call_id: state.callId, seconds: TONE_SECONDS });
      finish(ENDINGS.voicemail);
    }),
  );
  $("#record-mic").addEventListener("click", () => guarded(recordFromMicrophone));
  $("#hang-up").addEventListener("click", () => guarded(hangUp));
  $("#answer-call").addEventListener("click", () =>
    guarded(async () => {
      const callId = state.incomingId;
      await post("/local/voice/answer", { call_id: callId });
      state.incomingId = "";
      setCall(callId);
    }),
  );
  $("#decline-call").addEventListener("click", () =>
    guarded(async () => {
      const callId = state.incomingId;
      state.done.add(callId);
      await post("/local/voice/hangup", { call_id: callId });
      finish("Call declined.");
    }),
  );
  setInterval(poll, POLL_MS);
}
