// @ts-check
// Admin, "Reminders" tab: the appointment-reminder rules (GET/PUT /scheduling-settings) and
// the appointment import (POST /appointments/import: CSV or iCalendar text, or a feed URL).
// A chosen file is read as text into memory for one import and dropped after it: never
// written to browser storage. The import's answer names rows by number, never by client.

import { $, $$, clear, h, show } from "./dom.js";
import { api } from "./session.js";
import { fillTimeZones } from "./settings_view.js";
import { clearFieldErrors, fieldError } from "./fields.js";

/**
 * GET and PUT /scheduling-settings (SchedulingRules in functions/handlers/api/schedule_models.py).
 * @typedef {object} SchedulingSettings
 * @property {string} timezone
 * @property {string} quiet_start
 * @property {string} quiet_end
 * @property {number[]} reminder_hours_before
 * @property {string} reminder_template
 * @property {string} confirmed_reply
 * @property {string} reschedule_reply
 * @property {string} cancel_reply
 */
/**
 * POST /appointments/import's answer (ImportReport in functions/logic/reminders.py).
 * @typedef {{ row: number, field: string, problem: string }} ImportProblem
 * @typedef {{ created: number, updated: number, unchanged: number, cancelled: number,
 *   problems: ImportProblem[] }} ImportReport
 */
/** @typedef {(work: () => Promise<void>, fields?: Record<string, string>) => Promise<void>} Run */

/** The API's field names (4xx) -> this form's inputs. */
const RULE_FIELDS = {
  timezone: "reminders-timezone",
  quiet_start: "reminders-quiet-start",
  quiet_end: "reminders-quiet-end",
  reminder_hours_before: "reminders-hours",
  reminder_template: "reminders-template",
  confirmed_reply: "reminders-confirmed",
  reschedule_reply: "reminders-reschedule",
  cancel_reply: "reminders-cancel",
};
const TEXTS = /** @type {const} */ ([
  ["reminder_template", "reminders-template"],
  ["confirmed_reply", "reminders-confirmed"],
  ["reschedule_reply", "reminders-reschedule"],
  ["cancel_reply", "reminders-cancel"],
]);

/** The chosen file's text (read as it is chosen), kept only until the import that uses it. */
let fileText = Promise.resolve("");

/** @param {string} id */
const textarea = (id) => $(`#${id}`, HTMLTextAreaElement);
/** @param {string} id */
const input = (id) => $(`#${id}`, HTMLInputElement);

export async function loadReminderSettings() {
  const form = $("#reminders-form");
  form.inert = true; // no typing into fields that the load is about to fill
  delete form.dataset.loaded;
  const settings = /** @type {SchedulingSettings} */ (await api("GET", "/scheduling-settings"));
  fillTimeZones($("#reminders-timezone", HTMLSelectElement), settings.timezone);
  input("reminders-quiet-start").value = settings.quiet_start;
  input("reminders-quiet-end").value = settings.quiet_end;
  input("reminders-hours").value = settings.reminder_hours_before.join(", ");
  for (const [key, id] of TEXTS) textarea(id).value = settings[key];
  form.inert = false;
  form.dataset.loaded = "true";
}

/**
 * "48, 2" -> [48, 2]; null (and the reason next to the field) when it is not 1–4 whole
 * numbers from 1 to 336, the API's own rule, checked here so the error names the field.
 */
function readHours() {
  const parts = input("reminders-hours").value.split(",").map((p) => p.trim()).filter(Boolean);
  const hours = parts.map(Number);
  if (!parts.length || parts.length > 4 || !parts.every((p) => /^\d+$/.test(p)) || hours.some((n) => n < 1 || n > 336)) {
    fieldError($("#reminders-hours"), "Enter one to four whole numbers of hours, 1 to 336, separated by commas.");
    return null;
  }
  return hours;
}

/** @param {Run} run @param {(text: string) => void} done @param {SubmitEvent} event */
function save(run, done, event) {
  event.preventDefault();
  clearFieldErrors($("#reminders-form"));
  const hours = readHours();
  if (!hours) return $("#reminders-hours").focus();
  /** @type {SchedulingSettings} */
  const settings = {
    timezone: $("#reminders-timezone", HTMLSelectElement).value,
    quiet_start: input("reminders-quiet-start").value,
    quiet_end: input("reminders-quiet-end").value,
    reminder_hours_before: hours,
    reminder_template: "",
    confirmed_reply: "",
    reschedule_reply: "",
    cancel_reply: "",
  };
  for (const [key, id] of TEXTS) settings[key] = textarea(id).value;
  return run(async () => {
    await api("PUT", "/scheduling-settings", settings);
    await loadReminderSettings();
    done("Reminder rules saved.");
  }, RULE_FIELDS);
}

// --- import -------------------------------------------------------------------------------
/** @returns {"csv" | "ics" | "ics_url"} */
function format() {
  const checked = $$("#import-form input[name=import-format]", HTMLInputElement).find((r) => r.checked);
  const value = checked ? checked.value : "csv";
  return value === "ics" || value === "ics_url" ? value : "csv";
}

function showSource() {
  const url = format() === "ics_url";
  show($("#import-file-fields"), !url);
  show($("#import-url-fields"), url);
}

/** @param {Event} event */
function pickFile(event) {
  const picker = /** @type {HTMLInputElement} */ (event.target);
  const file = picker.files && picker.files[0];
  fieldError($("#import-file"), "");
  fileText = Promise.resolve("");
  if (!file) return;
  if (/\.ics$/i.test(file.name)) {
    const ics = $$("#import-form input[name=import-format]", HTMLInputElement).find((r) => r.value === "ics");
    if (ics) ics.checked = true;
  }
  fileText = new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : "");
    reader.onerror = () => {
      fieldError($("#import-file"), "That file could not be read.");
      resolve("");
    };
    reader.readAsText(file);
  });
}

/** @param {ImportProblem} problem @param {string} kind */
function problemLine(problem, kind) {
  return h("li", {}, `${kind} ${problem.row}: ${problem.field} ${problem.problem}.`);
}

/** @param {ImportReport} report @param {string} kind "Row" (CSV) or "Event" (iCalendar) */
function showReport(report, kind) {
  const skipped = report.problems.length;
  $("#import-counts").textContent =
    `Created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}, ` +
    `cancelled ${report.cancelled}; ${skipped} ${kind === "Row" ? "row" : "event"}${skipped === 1 ? "" : "s"} skipped.`;
  const list = $("#import-problems");
  clear(list);
  list.append(...report.problems.map((p) => problemLine(p, kind)));
  show($("#import-result"));
}

function forgetImport() {
  fileText = Promise.resolve("");
  input("import-file").value = "";
  textarea("import-content").value = "";
}

/** @param {Run} run @param {(text: string) => void} done @param {SubmitEvent} event */
async function importAppointments(run, done, event) {
  event.preventDefault();
  clearFieldErrors($("#import-form"));
  const chosen = format();
  const content = chosen === "ics_url" ? input("import-url").value.trim() : (await fileText) || textarea("import-content").value;
  if (!content.trim()) {
    const where = chosen === "ics_url" ? $("#import-url") : $("#import-content");
    fieldError(where, chosen === "ics_url" ? "Enter the feed's https URL." : "Choose a file or paste its text.");
    return where.focus();
  }
  const target = chosen === "ics_url" ? "import-url" : "import-content";
  return run(
    async () => {
      show($("#import-result"), false);
      const report = /** @type {ImportReport} */ (await api("POST", "/appointments/import", { format: chosen, content }));
      forgetImport();
      showReport(report, chosen === "csv" ? "Row" : "Event");
      done("Import finished.");
    },
    { content: target, file: target, url: "import-url", format: "import-content" },
  );
}

/**
 * @param {Run} run the admin page's error reporting
 * @param {(text: string) => void} done
 */
export function bindReminderSettings(run, done) {
  $("#reminders-form").addEventListener("submit", (event) => save(run, done, event));
  $("#import-form").addEventListener("submit", (event) => importAppointments(run, done, event));
  for (const radio of $$("#import-form input[name=import-format]")) radio.addEventListener("change", showSource);
  $("#import-file").addEventListener("change", pickFile);
}

/** Sign-out and app lock: nothing imported or read stays on the page. */
export function closeReminderSettings() {
  forgetImport();
  input("import-url").value = "";
  clear($("#import-problems"));
  $("#import-counts").textContent = "";
  show($("#import-result"), false);
}
