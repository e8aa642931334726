// @ts-check
// Admin pages: staff (invite, disable, enable, sign out everywhere), templates, practice
// settings (keyword replies, after hours) and the audit export. The API refuses all of it
// to clinicians (403); the Admin button is only shown to admins.

import { $, $$, clear, h, say, show, when } from "./dom.js";
import { ApiError, api, sessionEnded } from "./session.js";
import { reloadTemplates } from "./inbox.js";
import { bindVoiceSettings, closeVoiceSettings, loadVoiceSettings } from "./voice_admin.js";
import { fillTimeZones, showWordingInEffect } from "./settings_view.js";
import { clearFieldErrors, fieldError, showFieldErrors } from "./fields.js";
import { bindCareSettings, closeCareSettings, loadCareSettings } from "./care_admin.js";
import { bindReminderSettings, closeReminderSettings, loadReminderSettings } from "./reminders_admin.js";

/** @import { Me, Page, StaffUser, Template } from "./session.js" */
/**
 * Office hours by ISO weekday ("1" Monday … "7" Sunday): [opens, closes] as "HH:MM".
 * @typedef {Record<string, [string, string]>} Hours
 */
/**
 * GET and PUT /settings (the Settings model in functions/handlers/api.py).
 * @typedef {object} Settings
 * @property {string} help_reply
 * @property {string} stop_reply
 * @property {string} start_reply
 * @property {number} max_body_chars
 * @property {{ enabled: boolean, timezone: string, hours: Hours, text: string,
 *   window_minutes: number, holidays?: string[] }} after_hours
 * @property {Record<string, string>} [default_replies] GET only: the built-in wordings
 */
/**
 * One audit event as GET /audit/events lists it: identifiers only, never message text.
 * @typedef {object} AuditEvent
 * @property {string} at
 * @property {string} action
 * @property {string} outcome
 * @property {string} actor
 * @property {Record<string, string>} [target]
 */
/** @typedef {{ items: AuditEvent[], truncated: boolean }} AuditPage */
/** @typedef {"users" | "templates" | "settings" | "voice" | "care" | "reminders" | "audit"} Tab */

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

const state = {
  me: /** @type {Me | null} */ (null),
  tab: /** @type {Tab} */ ("users"),
  settings: /** @type {Settings | null} */ (null),
  audit: /** @type {AuditPage | null} */ (null),
};

/**
 * @param {unknown} error
 * @param {Record<string, string>} [fields] the API's field names -> this form's inputs
 */
function report(error, fields = {}) {
  if (sessionEnded(error)) return; // back at sign-in already
  if (showFieldErrors(error, fields)) return; // next to the fields the API named
  let text = "Something went wrong. Please try again.";
  if (error instanceof ApiError) {
    if (error.status === 422) {
      const fields = (error.data.errors || []).map((e) => e.field).filter(Boolean);
      text = fields.length ? `Check these fields: ${fields.join(", ")}.` : "Check what you entered.";
    } else if (error.status === 403) {
      text = "Only admins can do that.";
    } else if (error.status === 409) {
      text = error.data.detail || error.message;
    } else {
      text = error.message;
    }
  }
  say($("#admin-error"), text);
}

/** @param {string} text */
function done(text) {
  say($("#admin-error"), "");
  say($("#admin-status"), text);
}

/**
 * One admin action: the status and error lines cleared first, any failure reported (next
 * to its field when the API names one of `fields`).
 * @param {() => Promise<void>} work
 * @param {Record<string, string>} [fields]
 */
async function run(work, fields) {
  say($("#admin-error"), "");
  say($("#admin-status"), "");
  clearFieldErrors($("#admin-view"));
  try {
    await work();
  } catch (error) {
    report(error, fields);
  }
}

// --- staff -------------------------------------------------------------------------------
async function loadUsers() {
  const page = /** @type {Page<StaffUser>} */ (await api("GET", "/users"));
  const body = $("#users-body");
  clear(body);
  for (const user of page.items) {
    const self = state.me && user.user_id === state.me.user_id;
    /**
     * @param {string} label
     * @param {string} suffix
     * @param {string} message
     */
    const action = (label, suffix, message) =>
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          "aria-label": `${label}: ${user.email}`,
          onclick: () =>
            run(async () => {
              await api("POST", `/users/${encodeURIComponent(user.user_id)}/${suffix}`);
              await loadUsers();
              done(message);
            }),
        },
        label,
      );
    body.append(
      h(
        "tr",
        {},
        h("td", {}, user.email + (self ? " (you)" : "")),
        h("td", {}, user.role),
        h("td", {}, `${user.enabled ? "Active" : "Disabled"}${user.status === "FORCE_CHANGE_PASSWORD" ? " · invited" : ""}`),
        h(
          "td",
          { class: "actions" },
          self
            ? null
            : user.enabled
              ? action("Disable", "disable", "Disabled; their sessions have ended.")
              : action("Enable", "enable", "Enabled."),
          self ? null : action("Sign out everywhere", "sign-out", "Signed out everywhere."),
        ),
      ),
    );
  }
}

/** @param {SubmitEvent} event */
async function invite(event) {
  event.preventDefault();
  const email = $("#invite-email", HTMLInputElement).value.trim();
  clearFieldErrors($("#admin-view"));
  if (!email) return fieldError($("#invite-email"), "Enter an email address.");
  return run(
    async () => {
      await api("POST", "/users", { email, role: $("#invite-role", HTMLSelectElement).value });
      $("#invite-email", HTMLInputElement).value = "";
      await loadUsers();
      done("Invitation sent.");
    },
    { email: "invite-email", role: "invite-role" },
  );
}

// --- templates ----------------------------------------------------------------------------
async function loadTemplates() {
  const page = /** @type {Page<Template>} */ (await api("GET", "/templates"));
  const list = $("#templates-list");
  clear(list);
  if (!page.items.length) list.append(h("li", { class: "muted" }, "No templates yet."));
  for (const template of page.items) {
    list.append(
      h(
        "li",
        { class: "template" },
        h("p", {}, h("strong", {}, template.name)),
        h("p", { class: "message-body" }, template.body),
        h(
          "button",
          {
            type: "button",
            class: "secondary small",
            "aria-label": `Delete template ${template.name}`,
            onclick: () =>
              run(async () => {
                await api("DELETE", `/templates/${encodeURIComponent(template.template_id)}`);
                await loadTemplates();
                reloadTemplates();
                done("Template deleted.");
              }),
          },
          "Delete",
        ),
      ),
    );
  }
}

/** @param {SubmitEvent} event */
async function addTemplate(event) {
  event.preventDefault();
  const name = $("#template-name", HTMLInputElement).value.trim();
  const body = $("#template-body", HTMLTextAreaElement).value;
  clearFieldErrors($("#admin-view"));
  if (!name) return fieldError($("#template-name"), "A template needs a name.");
  if (!body.trim()) return fieldError($("#template-body"), "A template needs text.");
  return run(
    async () => {
      await api("POST", "/templates", { name, body });
      $("#template-name", HTMLInputElement).value = "";
      $("#template-body", HTMLTextAreaElement).value = "";
      await loadTemplates();
      reloadTemplates();
      done("Template added.");
    },
    { name: "template-name", body: "template-body" },
  );
}

// --- settings ------------------------------------------------------------------------------
/** The API's field names (422) -> the settings form's inputs. */
const SETTINGS_FIELDS = {
  help_reply: "help-reply",
  stop_reply: "stop-reply",
  start_reply: "start-reply",
  "after_hours.text": "after-text",
  timezone: "after-timezone",
  window_minutes: "after-window",
};

/** @param {Hours} hours */
function hoursRows(hours) {
  const rows = $("#hours-rows");
  clear(rows);
  DAYS.forEach((day, index) => {
    const key = String(index + 1);
    const span = hours[key];
    rows.append(
      h(
        "div",
        { class: "hours-row" },
        h("label", { class: "choice" }, h("input", { type: "checkbox", id: `open-${key}`, checked: Boolean(span) }), ` ${day}`),
        h("label", { for: `from-${key}`, class: "visually-hidden" }, `${day} opens at`),
        h("input", { type: "time", id: `from-${key}`, value: span ? span[0] : "09:00" }),
        h("span", { "aria-hidden": "true" }, "to"),
        h("label", { for: `to-${key}`, class: "visually-hidden" }, `${day} closes at`),
        h("input", { type: "time", id: `to-${key}`, value: span ? span[1] : "17:00" }),
      ),
    );
  });
}

async function loadSettings() {
  const form = $("#settings-form");
  form.inert = true; // no typing into fields that the load is about to fill
  delete form.dataset.loaded;
  const settings = /** @type {Settings} */ (await api("GET", "/settings"));
  state.settings = settings;
  $("#help-reply", HTMLTextAreaElement).value = settings.help_reply;
  $("#stop-reply", HTMLTextAreaElement).value = settings.stop_reply;
  $("#start-reply", HTMLTextAreaElement).value = settings.start_reply;
  $("#after-enabled", HTMLInputElement).checked = settings.after_hours.enabled;
  $("#after-text", HTMLTextAreaElement).value = settings.after_hours.text;
  fillTimeZones($("#after-timezone", HTMLSelectElement), settings.after_hours.timezone);
  showWordingInEffect(settings.default_replies);
  $("#after-window", HTMLInputElement).value = String(settings.after_hours.window_minutes);
  hoursRows(settings.after_hours.hours);
  $("#after-holidays", HTMLInputElement).value = (settings.after_hours.holidays ?? []).join(", ");
  form.inert = false;
  form.dataset.loaded = "true";
}

/** @param {SubmitEvent} event */
async function saveSettings(event) {
  event.preventDefault();
  /** @type {Hours} */
  const hours = {};
  /** @param {string} id */
  const field = (id) => $(`#${id}`, HTMLInputElement);
  DAYS.forEach((_, index) => {
    const key = String(index + 1);
    if (field(`open-${key}`).checked) hours[key] = [field(`from-${key}`).value, field(`to-${key}`).value];
  });
  /** @param {string} id */
  const text = (id) => $(`#${id}`, HTMLTextAreaElement).value;
  /** @type {Settings} */
  const settings = {
    help_reply: text("help-reply"),
    stop_reply: text("stop-reply"),
    start_reply: text("start-reply"),
    max_body_chars: state.settings ? state.settings.max_body_chars : 1600,
    after_hours: {
      enabled: field("after-enabled").checked,
      timezone: $("#after-timezone", HTMLSelectElement).value,
      hours,
      text: text("after-text"),
      window_minutes: Number(field("after-window").value) || 720,
      holidays: field("after-holidays").value.split(",").map((d) => d.trim()).filter(Boolean),
    },
  };
  return run(async () => {
    await api("PUT", "/settings", settings);
    await loadSettings();
    done("Settings saved.");
  }, SETTINGS_FIELDS);
}

// --- audit export -----------------------------------------------------------------------------
/** @param {string} date YYYY-MM-DD */
function dayAfter(date) {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

/** @param {SubmitEvent} event */
async function showAudit(event) {
  event.preventDefault();
  const start = $("#audit-start", HTMLInputElement).value;
  const end = $("#audit-end", HTMLInputElement).value;
  if (!start || !end) return say($("#admin-error"), "Choose both dates.");
  return run(async () => {
    const query = new URLSearchParams({ start: `${start}T00:00:00Z`, end: `${dayAfter(end)}T00:00:00Z` });
    const result = /** @type {AuditPage} */ (await api("GET", `/audit/events?${query}`));
    state.audit = result;
    const body = $("#audit-body");
    clear(body);
    for (const item of result.items) {
      const target = Object.entries(item.target || {}).map(([k, v]) => `${k}=${v}`).join(" ");
      body.append(
        h("tr", {}, h("td", {}, when(item.at)), h("td", {}, item.action), h("td", {}, item.outcome), h("td", {}, item.actor), h("td", { class: "wrap-anywhere" }, target)),
      );
    }
    $("#audit-download", HTMLButtonElement).disabled = !result.items.length;
    done(`${result.items.length} events${result.truncated ? " (the first 1,000; narrow the dates for the rest)" : ""}.`);
  });
}

function downloadAudit() {
  if (!state.audit) return;
  const blob = new Blob([JSON.stringify(state.audit.items, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const [start, end] = ["#audit-start", "#audit-end"].map((id) => $(id, HTMLInputElement).value);
  const link = h("a", { href: url, download: `quietline-audit-${start}-to-${end}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- tabs and lifecycle ----------------------------------------------------------------------
/** @type {Record<Tab, () => Promise<void>>} */
const LOADERS = {
  users: loadUsers,
  templates: loadTemplates,
  settings: loadSettings,
  voice: loadVoiceSettings,
  care: loadCareSettings,
  reminders: loadReminderSettings,
  audit: async () => {},
};

/**
 * @param {string | undefined} name a tab button's data-tab
 * @returns {name is Tab}
 */
function isTab(name) {
  return name !== undefined && Object.hasOwn(LOADERS, name);
}

/** @param {Tab} tab */
function selectTab(tab) {
  state.tab = tab;
  for (const button of $$("#admin-view .tab")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === tab));
  }
  for (const name of Object.keys(LOADERS)) show($(`#tab-${name}`), name === tab);
  return run(LOADERS[tab]);
}

export function bind() {
  for (const button of $$("#admin-view .tab")) {
    const tab = button.dataset.tab;
    if (isTab(tab)) button.addEventListener("click", () => selectTab(tab));
  }
  $("#invite-form").addEventListener("submit", invite);
  $("#template-form").addEventListener("submit", addTemplate);
  $("#settings-form").addEventListener("submit", saveSettings);
  $("#audit-form").addEventListener("submit", showAudit);
  $("#audit-download").addEventListener("click", downloadAudit);
  bindVoiceSettings(run, done);
  bindCareSettings(run, done);
  bindReminderSettings(run, done);
  const today = new Date().toISOString().slice(0, 10);
  $("#audit-start", HTMLInputElement).value = today;
  $("#audit-end", HTMLInputElement).value = today;
}

/** @param {Me} me */
export function open(me) {
  state.me = me;
  selectTab(state.tab);
}

export function close() {
  state.me = null;
  state.settings = null;
  state.audit = null;
  for (const id of ["#users-body", "#templates-list", "#audit-body", "#hours-rows"]) clear($(id));
  $("#audit-download", HTMLButtonElement).disabled = true;
  closeVoiceSettings();
  closeCareSettings();
  closeReminderSettings();
  say($("#admin-error"), "");
  say($("#admin-status"), "");
}
