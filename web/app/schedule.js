// @ts-check
// Scheduled messages and appointments in the open thread (the client pane): schedule a
// text or a secure link for a practice-time date and time, see and cancel the pending
// ones, book an appointment whose reminders the practice's rules plan. The times staff
// type are the practice's wall clock; the server reads them in the practice's time zone.

import { $, clear, h, say, show } from "./dom.js";
import { api, problem, sessionEnded } from "./session.js";

/** @import { Page } from "./session.js" */
/**
 * A pending schedule as GET /conversations/{id}/schedules lists it.
 * @typedef {object} Schedule
 * @property {string} schedule_id
 * @property {"text" | "secure_link" | "reminder"} kind
 * @property {string} due_local
 * @property {string | null} body
 */

const state = { conversationId: /** @type {string | null} */ (null) };

/** @param {string} id */
const schedulesPath = (id) => `/conversations/${encodeURIComponent(id)}/schedules`;

const KINDS = { text: "Text", secure_link: "Secure link", reminder: "Reminder" };

/** @param {Schedule} schedule */
function scheduleItem(schedule) {
  return h(
    "li",
    { class: "schedule" },
    h("span", { class: "muted" }, `${KINDS[schedule.kind]} · ${schedule.due_local.replace("T", " ")}`),
    h("span", { class: "schedule-body" }, schedule.body || ""),
    h(
      "button",
      { type: "button", class: "secondary", onclick: () => cancel(schedule.schedule_id) },
      "Cancel",
    ),
  );
}

async function load() {
  const id = state.conversationId;
  if (!id) return;
  const page = /** @type {Page<Schedule>} */ (await api("GET", schedulesPath(id)));
  if (id !== state.conversationId) return;
  const list = $("#schedule-list");
  clear(list);
  list.append(...page.items.map(scheduleItem));
  show($("#schedule-none"), page.items.length === 0);
}

/** @param {string} scheduleId */
async function cancel(scheduleId) {
  const id = state.conversationId;
  if (!id) return;
  try {
    await api("DELETE", `${schedulesPath(id)}/${encodeURIComponent(scheduleId)}`);
    say($("#schedule-status"), "Scheduled message cancelled.");
    await load();
  } catch (error) {
    if (!sessionEnded(error)) say($("#schedule-error"), problem(error));
  }
}

/** @param {SubmitEvent} event */
async function submitSchedule(event) {
  event.preventDefault();
  const id = state.conversationId;
  if (!id) return;
  say($("#schedule-error"), "");
  say($("#schedule-status"), "");
  const secure = $("#schedule-form input[name=schedule-mode]:checked", HTMLInputElement).value === "secure_link";
  try {
    await api("POST", schedulesPath(id), {
      send_at: $("#schedule-at", HTMLInputElement).value,
      body: $("#schedule-body", HTMLTextAreaElement).value,
      mode: secure ? "secure_link" : "plain",
    });
    $("#schedule-body", HTMLTextAreaElement).value = "";
    say($("#schedule-status"), "Message scheduled.");
    await load();
  } catch (error) {
    if (!sessionEnded(error)) say($("#schedule-error"), problem(error));
  }
}

/** @param {SubmitEvent} event */
async function submitAppointment(event) {
  event.preventDefault();
  const id = state.conversationId;
  if (!id) return;
  say($("#appointment-error"), "");
  say($("#appointment-status"), "");
  try {
    await api("POST", `/conversations/${encodeURIComponent(id)}/appointments`, {
      start: $("#appointment-at", HTMLInputElement).value,
      duration_minutes: Number($("#appointment-minutes", HTMLInputElement).value || "50"),
    });
    say($("#appointment-status"), "Appointment booked; reminders are scheduled.");
    await load();
  } catch (error) {
    if (!sessionEnded(error)) say($("#appointment-error"), problem(error));
  }
}

export function bind() {
  $("#schedule-form").addEventListener("submit", (event) => submitSchedule(/** @type {SubmitEvent} */ (event)));
  $("#appointment-form").addEventListener("submit", (event) => submitAppointment(/** @type {SubmitEvent} */ (event)));
}

/**
 * Show the open thread's schedules (null: no thread open).
 * @param {string | null} conversationId
 */
export async function openThread(conversationId) {
  state.conversationId = conversationId;
  show($("#schedule-box"), conversationId !== null);
  for (const region of ["#schedule-error", "#schedule-status", "#appointment-error", "#appointment-status"]) {
    say($(region), "");
  }
  clear($("#schedule-list"));
  if (conversationId === null) return;
  try {
    await load();
  } catch (error) {
    if (!sessionEnded(error)) say($("#schedule-error"), problem(error));
  }
}
