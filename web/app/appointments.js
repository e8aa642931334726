// @ts-check
// The day view: a practice day's sessions (tomorrow unless another day is chosen), each
// with its client's name and where its reminder stands: no reminder yet, awaiting an
// answer (unanswered), confirmed, asked to reschedule, cancelled by the client or practice.

import { $, clear, h, say } from "./dom.js";
import { api, problem, sessionEnded } from "./session.js";

/** @import { Page } from "./session.js" */
/**
 * An appointment as GET /appointments lists it (functions/logic/reminders.py).
 * @typedef {object} Appointment
 * @property {string} appointment_id
 * @property {string} conversation_id
 * @property {string} start_local
 * @property {number} duration_minutes
 * @property {string} status
 * @property {string | null} reply
 * @property {"none" | "awaiting" | "answered" | "cancelled"} reminder_state
 */

/** @param {Appointment} appointment */
function standing(appointment) {
  if (appointment.reminder_state === "cancelled") return "Cancelled by the practice";
  if (appointment.reply === "confirmed") return "Confirmed";
  if (appointment.reply === "reschedule") return "Asked to reschedule";
  if (appointment.reply === "cancel") return "Client cancelled";
  if (appointment.reminder_state === "awaiting") return "Reminder sent, no answer yet";
  return "No reminder sent yet";
}

/** @param {string} conversationId */
async function nameOf(conversationId) {
  try {
    const found = /** @type {{ display_name: string | null }} */ (
      await api("GET", `/conversations/${encodeURIComponent(conversationId)}`)
    );
    return found.display_name || "Unnamed client";
  } catch {
    return "A client you cannot see";
  }
}

export async function load() {
  say($("#appointments-error"), "");
  const day = $("#appointments-day", HTMLInputElement).value;
  try {
    const page = /** @type {Page<Appointment>} */ (
      await api("GET", `/appointments${day ? `?day=${encodeURIComponent(day)}` : ""}`)
    );
    const names = await Promise.all(page.items.map((a) => nameOf(a.conversation_id)));
    const list = $("#appointments-list");
    clear(list);
    list.append(
      ...page.items.map((appointment, index) =>
        h(
          "li",
          { class: `appointment state-${appointment.reminder_state}`, dataset: { id: appointment.appointment_id } },
          h("strong", {}, appointment.start_local.slice(11)),
          ` ${names[index]} · ${appointment.duration_minutes} min · `,
          h("span", { class: "appointment-state" }, standing(appointment)),
        ),
      ),
    );
    say($("#appointments-empty"), page.items.length ? "" : "No sessions that day.");
  } catch (error) {
    if (!sessionEnded(error)) say($("#appointments-error"), problem(error));
  }
}

/** Empty the day view (sign-out, app lock): client names leave the page, not just the screen. */
export function close() {
  clear($("#appointments-list"));
  say($("#appointments-empty"), "");
  say($("#appointments-error"), "");
}

export function bind() {
  $("#appointments-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void load();
  });
}
