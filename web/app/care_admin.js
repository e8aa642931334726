// @ts-check
// Admin, "After-hours care" tab: the on-call rota (weekly slots and date ranges, each naming
// an active clinician) and the crisis safety net (on/off, the reply, the phrase lists).
// GET/PUT /care-settings. Office hours and holidays stay in the Settings tab.

import { $, $$, clear, h } from "./dom.js";
import { api } from "./session.js";

/** @import { Page, StaffUser } from "./session.js" */
/**
 * @typedef {{ user_id: string, from_day: number, from_time: string, to_day: number, to_time: string }} WeeklySlot
 * @typedef {{ user_id: string, starts: string, ends: string }} DateRange
 * @typedef {object} CareSettings
 * @property {WeeklySlot[]} weekly
 * @property {DateRange[]} ranges
 * @property {boolean} crisis_enabled
 * @property {Record<string, string[]>} crisis_phrases
 * @property {string} crisis_reply
 * @property {string} [default_crisis_reply]
 * @property {boolean} page_after_hours
 */

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const CATEGORIES = /** @type {const} */ ([
  ["suicide", "Suicide"],
  ["self_harm", "Self-harm"],
  ["harm_to_others", "Harm to others"],
  ["abuse", "Abuse"],
]);

/** @type {StaffUser[]} */
let staff = [];
let rowCount = 0;

/** @param {string} selected @param {string} label */
function staffSelect(selected, label) {
  const id = `care-row-${rowCount}-user`;
  return [
    h("label", { for: id }, label),
    h(
      "select",
      { id, class: "care-user" },
      staff
        .filter((u) => u.enabled || u.user_id === selected)
        .map((u) => h("option", { value: u.user_id, selected: u.user_id === selected }, u.email)),
    ),
  ];
}

/** @param {number} selected @param {string} cls @param {string} label */
function daySelect(selected, cls, label) {
  const id = `care-row-${rowCount}-${cls}`;
  return [
    h("label", { for: id }, label),
    h("select", { id, class: cls }, DAYS.map((d, i) => h("option", { value: String(i + 1), selected: i + 1 === selected }, d))),
  ];
}

/** @param {string} value @param {string} cls @param {string} label @param {string} type */
function input(value, cls, label, type) {
  const id = `care-row-${rowCount}-${cls}`;
  return [h("label", { for: id }, label), h("input", { id, class: cls, type, value })];
}

/** @param {WeeklySlot} slot */
function weeklyRow(slot) {
  rowCount += 1;
  const row = h(
    "div",
    { class: "care-weekly hours-row" },
    ...staffSelect(slot.user_id, "On call"),
    ...daySelect(slot.from_day, "care-from-day", "from"),
    ...input(slot.from_time, "care-from-time", "at", "time"),
    ...daySelect(slot.to_day, "care-to-day", "until"),
    ...input(slot.to_time, "care-to-time", "at", "time"),
  );
  row.append(h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Remove"));
  return row;
}

/** @param {DateRange} range */
function rangeRow(range) {
  rowCount += 1;
  const row = h(
    "div",
    { class: "care-range hours-row" },
    ...staffSelect(range.user_id, "On call"),
    ...input(range.starts, "care-starts", "from", "datetime-local"),
    ...input(range.ends, "care-ends", "until", "datetime-local"),
  );
  row.append(h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Remove"));
  return row;
}

/** @param {HTMLElement} row @param {string} cls */
const value = (row, cls) => /** @type {HTMLInputElement} */ (row.querySelector(`.${cls}`)).value;

export async function loadCareSettings() {
  const form = $("#care-form");
  form.inert = true;
  const [settings, users] = await Promise.all([
    /** @type {Promise<CareSettings>} */ (api("GET", "/care-settings")),
    /** @type {Promise<Page<StaffUser>>} */ (api("GET", "/users")),
  ]);
  staff = users.items;
  const weekly = $("#care-weekly");
  const ranges = $("#care-ranges");
  clear(weekly);
  clear(ranges);
  for (const slot of settings.weekly) weekly.append(weeklyRow(slot));
  for (const range of settings.ranges) ranges.append(rangeRow(range));
  $("#care-crisis-enabled", HTMLInputElement).checked = settings.crisis_enabled;
  $("#care-page-after-hours", HTMLInputElement).checked = settings.page_after_hours;
  const reply = $("#care-crisis-reply", HTMLTextAreaElement);
  reply.value = settings.crisis_reply;
  reply.placeholder = settings.default_crisis_reply ?? "";
  for (const [category] of CATEGORIES) {
    $(`#care-phrases-${category}`, HTMLTextAreaElement).value = (settings.crisis_phrases[category] ?? []).join("\n");
  }
  form.inert = false;
  form.dataset.loaded = "true";
}

/** @returns {CareSettings} */
function read() {
  /** @type {Record<string, string[]>} */
  const phrases = {};
  for (const [category] of CATEGORIES) {
    phrases[category] = $(`#care-phrases-${category}`, HTMLTextAreaElement)
      .value.split("\n")
      .map((p) => p.trim())
      .filter(Boolean);
  }
  return {
    weekly: $$("#care-weekly .care-weekly").map((row) => ({
      user_id: value(row, "care-user"),
      from_day: Number(value(row, "care-from-day")),
      from_time: value(row, "care-from-time"),
      to_day: Number(value(row, "care-to-day")),
      to_time: value(row, "care-to-time"),
    })),
    ranges: $$("#care-ranges .care-range").map((row) => ({
      user_id: value(row, "care-user"),
      starts: value(row, "care-starts").slice(0, 16),
      ends: value(row, "care-ends").slice(0, 16),
    })),
    crisis_enabled: $("#care-crisis-enabled", HTMLInputElement).checked,
    crisis_phrases: phrases,
    crisis_reply: $("#care-crisis-reply", HTMLTextAreaElement).value,
    page_after_hours: $("#care-page-after-hours", HTMLInputElement).checked,
  };
}

/**
 * @param {(work: () => Promise<void>) => Promise<void>} run the admin page's error reporting
 * @param {(text: string) => void} done
 */
export function bindCareSettings(run, done) {
  const first = () => (staff.find((u) => u.enabled) ?? { user_id: "" }).user_id;
  $("#care-add-weekly").addEventListener("click", () =>
    $("#care-weekly").append(weeklyRow({ user_id: first(), from_day: 5, from_time: "17:00", to_day: 1, to_time: "09:00" })),
  );
  $("#care-add-range").addEventListener("click", () => {
    const today = new Date().toISOString().slice(0, 10);
    $("#care-ranges").append(rangeRow({ user_id: first(), starts: `${today}T17:00`, ends: `${today}T23:59` }));
  });
  $("#care-form").addEventListener("submit", (event) => {
    event.preventDefault();
    return run(async () => {
      await api("PUT", "/care-settings", read());
      await loadCareSettings();
      done("After-hours care saved.");
    });
  });
}

export function closeCareSettings() {
  staff = [];
  clear($("#care-weekly"));
  clear($("#care-ranges"));
}
