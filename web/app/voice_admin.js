// @ts-check
// Admin, "Calls" tab: voice on/off, who each business number rings (in order or together,
// for how long), the voicemail greeting and the missed-call text. GET/PUT /voice-settings;
// errors are shown next to the field the API names. The recorded greeting is uploaded on
// its own (PUT/DELETE /voice-settings/greeting): the settings form never carries it.

import { $, $$, h, say } from "./dom.js";
import { ApiError, api } from "./session.js";

/** @import { Page, StaffUser } from "./session.js" */
/**
 * @typedef {object} NumberRoute
 * @property {string} business_number
 * @property {string[]} user_ids
 * @property {"sequential" | "simultaneous"} strategy
 * @property {number} ring_seconds
 */
/**
 * @typedef {object} VoiceSettings
 * @property {boolean} enabled
 * @property {NumberRoute[]} routes
 * @property {string} greeting_text
 * @property {boolean} [greeting_recording] set by the API: callers hear the uploaded recording
 * @property {number} max_voicemail_seconds
 * @property {boolean} missed_call_text_enabled
 * @property {string} missed_call_text
 * @property {boolean} transcribe_voicemail off unless an admin opts in
 */

// Where an API field's error goes (the field as the API names it, after normalising).
const FIELD_ERRORS = /** @type {Record<string, string>} */ ({
  greeting_text: "#voice-greeting-error",
  max_voicemail_seconds: "#voice-max-seconds-error",
  missed_call_text: "#voice-text-back-text-error",
  transcribe_voicemail: "#voice-transcribe-error",
});

/** @type {StaffUser[]} */
let staff = [];

// The API's bounds for a greeting (functions/logic/greeting_audio.py); checked here first
// only to answer at once, the API decides.
const MAX_GREETING_BYTES = 1024 * 1024;
const GREETING_TYPES = ["audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3"];

/**
 * One business number's row: the number, whom to ring, how, for how long.
 * @param {NumberRoute} route
 */
function routeRow(route) {
  const index = $$("#voice-routes .voice-route").length;
  const id = (/** @type {string} */ name) => `voice-route-${index}-${name}`;
  const row = h(
    "div",
    { class: "voice-route", dataset: { index: String(index) } },
    h("label", { for: id("number") }, "Business number (+1…)"),
    h("input", { id: id("number"), class: "route-number", autocomplete: "off", value: route.business_number, "aria-describedby": id("number-error") }),
    h("p", { id: id("number-error"), class: "error route-error", role: "alert", hidden: true, dataset: { field: "business_number" } }),
    h(
      "fieldset",
      {},
      h("legend", {}, "Ring"),
      staff
        .filter((u) => u.enabled)
        .map((user) =>
          h(
            "label",
            { class: "choice" },
            h("input", { type: "checkbox", class: "route-user", value: user.user_id, checked: route.user_ids.includes(user.user_id) }),
            ` ${user.email}`,
          ),
        ),
      h("p", { class: "error route-error", role: "alert", hidden: true, dataset: { field: "user_ids" } }),
    ),
    h("label", { for: id("strategy") }, "How"),
    h(
      "select",
      { id: id("strategy"), class: "route-strategy" },
      h("option", { value: "sequential", selected: route.strategy === "sequential" }, "One after another, in the order listed"),
      h("option", { value: "simultaneous", selected: route.strategy === "simultaneous" }, "All at once: the first to accept takes the call"),
    ),
    h("label", { for: id("seconds") }, "Ring each for (seconds, 5 to 60)"),
    h("input", { id: id("seconds"), class: "route-seconds", type: "number", min: 5, max: 60, value: route.ring_seconds, "aria-describedby": id("seconds-error") }),
    h("p", { id: id("seconds-error"), class: "error route-error", role: "alert", hidden: true, dataset: { field: "ring_seconds" } }),
  );
  row.append(h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Remove this number"));
  return row;
}

/** @returns {VoiceSettings} */
function read() {
  return {
    enabled: $("#voice-enabled", HTMLInputElement).checked,
    routes: $$("#voice-routes .voice-route").map((row) => ({
      business_number: /** @type {HTMLInputElement} */ (row.querySelector(".route-number")).value.trim(),
      user_ids: Array.from(row.querySelectorAll(".route-user:checked"), (box) => /** @type {HTMLInputElement} */ (box).value),
      strategy: /** @type {HTMLSelectElement} */ (row.querySelector(".route-strategy")).value === "simultaneous" ? "simultaneous" : "sequential",
      ring_seconds: Number(/** @type {HTMLInputElement} */ (row.querySelector(".route-seconds")).value),
    })),
    greeting_text: $("#voice-greeting", HTMLTextAreaElement).value.trim(),
    max_voicemail_seconds: Number($("#voice-max-seconds", HTMLInputElement).value),
    missed_call_text_enabled: $("#voice-text-back", HTMLInputElement).checked,
    missed_call_text: $("#voice-text-back-text", HTMLTextAreaElement).value.trim(),
    transcribe_voicemail: $("#voice-transcribe", HTMLInputElement).checked,
  };
}

/** @param {VoiceSettings} settings */
function fill(settings) {
  $("#voice-enabled", HTMLInputElement).checked = settings.enabled;
  $("#voice-routes").replaceChildren();
  for (const route of settings.routes) $("#voice-routes").append(routeRow(route));
  $("#voice-greeting", HTMLTextAreaElement).value = settings.greeting_text;
  $("#voice-max-seconds", HTMLInputElement).value = String(settings.max_voicemail_seconds);
  $("#voice-text-back", HTMLInputElement).checked = settings.missed_call_text_enabled;
  $("#voice-text-back-text", HTMLTextAreaElement).value = settings.missed_call_text;
  $("#voice-transcribe", HTMLInputElement).checked = Boolean(settings.transcribe_voicemail);
  showGreetingSource(Boolean(settings.greeting_recording));
}

/** @param {boolean} recorded */
function showGreetingSource(recorded) {
  $("#voice-greeting-source").textContent = recorded ? "Using your recording" : "Using text-to-speech";
  $("#voice-greeting-remove").hidden = !recorded;
}

/**
 * The file's bytes as base64 (the API reads JSON), in chunks: one spread of a 1 MB array
 * would overflow the call stack.
 * @param {Blob} file
 */
async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}

/**
 * The API's refusal of an upload (413, 415, 422), in words next to the file input.
 * @param {unknown} error
 */
function showGreetingError(error) {
  if (!(error instanceof ApiError) || ![413, 415, 422].includes(error.status)) return false;
  const [first] = error.data.errors || [];
  const subject = first && first.field === "content_type" ? "This file's type" : "This recording";
  say($("#voice-greeting-file-error"), first ? `${subject} ${first.problem}.` : "This recording cannot be used.");
  return true;
}

/**
 * @param {(work: () => Promise<void>) => Promise<void>} run
 * @param {(text: string) => void} done
 */
async function uploadGreeting(run, done) {
  const input = $("#voice-greeting-file", HTMLInputElement);
  const file = input.files && input.files[0];
  say($("#voice-greeting-file-error"), "");
  if (!file) return;
  if (file.size > MAX_GREETING_BYTES) {
    say($("#voice-greeting-file-error"), "This recording must be at most 1 MB.");
    return;
  }
  if (!GREETING_TYPES.includes(file.type)) {
    say($("#voice-greeting-file-error"), "This file's type must be WAV or MP3.");
    return;
  }
  await run(async () => {
    try {
      const body = { content_type: file.type, audio_base64: await base64Of(file) };
      const settings = /** @type {VoiceSettings} */ (await api("PUT", "/voice-settings/greeting", body));
      showGreetingSource(Boolean(settings.greeting_recording));
      input.value = "";
      done("Greeting recording saved: callers hear it before the beep.");
    } catch (error) {
      if (!showGreetingError(error)) throw error;
    }
  });
}

/**
 * @param {(work: () => Promise<void>) => Promise<void>} run
 * @param {(text: string) => void} done
 */
async function removeGreeting(run, done) {
  say($("#voice-greeting-file-error"), "");
  await run(async () => {
    await api("DELETE", "/voice-settings/greeting");
    showGreetingSource(false);
    done("Greeting recording removed: callers hear the greeting text.");
  });
}

function clearErrors() {
  for (const line of $$("#voice-form .error")) say(line, "");
}

/**
 * Put each of the API's field errors next to its field; true if every one found a place.
 * @param {unknown} error
 */
function showFieldErrors(error) {
  if (!(error instanceof ApiError) || error.status !== 422) return false;
  let placed = 0;
  const problems = error.data.errors || [];
  for (const { field = "", problem = "" } of problems) {
    // "body.routes.0.ring_seconds" (request checks) or "voice.routes[0].ring_seconds" (rules)
    const path = field.replace(/^(body|voice)\./, "").replace(/\[(\d+)\]/g, ".$1").split(".");
    const words = problem.includes(" ") ? `This ${problem}.` : "Check this value.";
    const line =
      path[0] === "routes" && path.length >= 3
        ? document.querySelector(`#voice-routes .voice-route[data-index="${path[1]}"] .route-error[data-field="${path[2]}"]`)
        : FIELD_ERRORS[path[0]] ? $(FIELD_ERRORS[path[0]]) : null;
    if (line instanceof HTMLElement) {
      say(line, words);
      placed += 1;
    }
  }
  return problems.length > 0 && placed === problems.length;
}

export async function loadVoiceSettings() {
  clearErrors();
  const [settings, users] = /** @type {[VoiceSettings, Page<StaffUser>]} */ (
    await Promise.all([api("GET", "/voice-settings"), api("GET", "/users")])
  );
  staff = users.items;
  fill(settings);
}

/**
 * @param {SubmitEvent} event
 * @param {(work: () => Promise<void>) => Promise<void>} run the admin page's action wrapper
 * @param {(text: string) => void} done
 */
async function save(event, run, done) {
  event.preventDefault();
  clearErrors();
  await run(async () => {
    try {
      fill(/** @type {VoiceSettings} */ (await api("PUT", "/voice-settings", read())));
      done("Call settings saved.");
    } catch (error) {
      if (!showFieldErrors(error)) throw error; // the page's error line says it
    }
  });
}

/**
 * @param {(work: () => Promise<void>) => Promise<void>} run
 * @param {(text: string) => void} done
 */
export function bindVoiceSettings(run, done) {
  $("#voice-form").addEventListener("submit", (event) => save(event, run, done));
  $("#voice-greeting-file").addEventListener("change", () => uploadGreeting(run, done));
  $("#voice-greeting-remove").addEventListener("click", () => removeGreeting(run, done));
  $("#voice-add-route").addEventListener("click", () => {
    const row = routeRow({ business_number: "", user_ids: [], strategy: "sequential", ring_seconds: 20 });
    $("#voice-routes").append(row);
    /** @type {HTMLInputElement} */ (row.querySelector(".route-number")).focus();
  });
}

export function closeVoiceSettings() {
  staff = [];
  $("#voice-routes").replaceChildren();
  clearErrors();
}
