// @ts-check
// The inbox: the conversation list (unread badges, assignment), the open thread, compose
// (templates, live segment count, plain or secure link) and the client's details (consent
// capture, assignment, wipe). Everything lives in memory: no ids, names, numbers or text
// ever go into the address bar, the title or browser storage.

import { $, $$, clear, h, say, show } from "./dom.js";
import { api, idleFor, problem, sessionEnded } from "./session.js";
import { describeSegments } from "./segments.js";
import { clearFieldErrors, fieldError, showFieldErrors } from "./fields.js";
import { clientLabel, consentText, conversationRow, messageItem } from "./inbox_format.js";
import { showPane } from "./layout.js";
import { bindNewContact, resetNewContact } from "./new_contact.js";
import * as voice from "./voice.js";
import * as live from "./live.js";
import * as push from "./push.js";
import * as schedule from "./schedule.js";

/** @import { ConsentMode, Contact, Conversation, Me, Message, Page } from "./session.js" */
/** @import { StaffUser, Template } from "./session.js" */
/** @typedef {"plain" | "secure_link"} SendMode */

// Changes arrive on the live socket (live.js); this slow poll stands in only while the
// socket is down, and only while someone is using the page (see docs/web.md).
const POLL_MS = 60_000;
const ACTIVE_WINDOW_MS = 60_000;
/** @typedef {Page<Conversation> & { since?: string | null }} ListPage */

const state = {
  me: /** @type {Me | null} */ (null),
  filter: "all",
  conversations: /** @type {Conversation[]} */ ([]),
  cursor: /** @type {string | null} */ (null),
  morePages: false,
  openId: /** @type {string | null} */ (null),
  openActivity: /** @type {string | null} */ (null),
  contact: /** @type {Contact | null} */ (null),
  olderCursor: /** @type {string | null} */ (null),
  templates: /** @type {Template[]} */ ([]),
  users: /** @type {StaffUser[]} */ ([]), // admins only: for assignment
  poll: /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined),
  since: /** @type {string | null} */ (null), // the list's mark: ask only for what changed after
  newestId: /** @type {string | null} */ (null), // the open thread's newest message shown
  stale: false, // a change arrived while nobody was using the page: fetch on their return
};

/** @param {string} id */
const path = (id) => `/conversations/${encodeURIComponent(id)}`;

// --- conversation list ---------------------------------------------------------------------
/** @param {string | null} userId */
function assignee(userId) {
  if (!userId) return "Unassigned";
  if (state.me && userId === state.me.user_id) return "Assigned to you";
  const user = state.users.find((u) => u.user_id === userId);
  return user ? `Assigned to ${user.email}` : "Assigned to a colleague";
}

function renderList() {
  const list = $("#conversation-list");
  clear(list);
  for (const conversation of state.conversations) {
    const id = conversation.conversation_id;
    list.append(
      conversationRow(conversation, {
        current: id === state.openId,
        assignee: assignee(conversation.assigned_to),
        onOpen: () => openConversation(id),
      }),
    );
  }
  say($("#list-status"), state.conversations.length ? "" : "No conversations yet.");
  show($("#load-more"), Boolean(state.cursor));
}

/**
 * @param {Conversation} a
 * @param {Conversation} b
 */
function byActivity(a, b) {
  return (b.last_activity_at || "").localeCompare(a.last_activity_at || "");
}

/** @param {{ more?: boolean, changed?: boolean }} [options] */
async function loadList({ more = false, changed = false } = {}) {
  const query = new URLSearchParams({ view: state.filter, limit: "50" });
  if (more && state.cursor) query.set("cursor", state.cursor);
  const onlyChanged = changed && !more && state.since !== null;
  if (onlyChanged) query.set("since", /** @type {string} */ (state.since));
  const page = /** @type {ListPage} */ (await api("GET", `/conversations?${query}`));
  if (onlyChanged) {
    // Only what changed since the last look: merged in, nothing else re-read or decrypted.
    const fresh = new Set(page.items.map((c) => c.conversation_id));
    const rest = state.conversations.filter((c) => !fresh.has(c.conversation_id));
    state.conversations = page.items.concat(rest).sort(byActivity);
    state.since = page.since ?? state.since;
    if (page.cursor) return loadList(); // more changed than a page holds: start over
  } else if (more) {
    const known = new Set(state.conversations.map((c) => c.conversation_id));
    state.conversations = state.conversations.concat(page.items.filter((c) => !known.has(c.conversation_id)));
    state.cursor = page.cursor ?? null;
    state.morePages = true;
  } else if (state.morePages) {
    // Keep what "Load more" brought in; the first page replaces what it covers.
    const fresh = new Set(page.items.map((c) => c.conversation_id));
    const older = state.conversations.filter((c) => !fresh.has(c.conversation_id));
    state.conversations = page.items.concat(older).sort(byActivity);
    state.since = page.since ?? null;
  } else {
    state.conversations = page.items;
    state.cursor = page.cursor ?? null;
    state.since = page.since ?? null;
  }
  renderList();
  return undefined;
}

async function refresh() {
  try {
    await loadList({ changed: true });
    const open = state.conversations.find((c) => c.conversation_id === state.openId);
    if (open && open.last_activity_at !== state.openActivity) {
      state.openActivity = open.last_activity_at;
      await loadThread({ newer: true });
      if (open.unread_count) await markRead(open);
    }
  } catch (error) {
    if (!sessionEnded(error)) say($("#list-status"), problem(error));
  }
}

/** Whether someone is using the page now: only then may a change cause requests (an
 * unattended inbox must not keep its session alive; the server's idle logoff applies). */
function attended() {
  return idleFor() < ACTIVE_WINDOW_MS && document.visibilityState === "visible";
}

/** A change the socket announced (or the fallback poll's tick). */
function changed() {
  if (!state.me) return;
  if (!attended()) {
    state.stale = true;
    return;
  }
  state.stale = false;
  refresh();
}

/** Someone came back to the page: fetch what changed while they were away. */
function returned() {
  if (state.me && state.stale && document.visibilityState === "visible") {
    state.stale = false;
    refresh();
  }
}

// --- thread ------------------------------------------------------------------------------
/** @param {string | null} userId */
function staffName(userId) {
  if (state.me && userId === state.me.user_id) return "You";
  return state.users.find((u) => u.user_id === userId)?.email ?? "Staff";
}

/** @param {{ older?: boolean, newer?: boolean }} [options] */
async function loadThread({ older = false, newer = false } = {}) {
  if (newer && state.newestId) return loadNewer();
  const query = new URLSearchParams({ limit: "50" });
  if (older && state.olderCursor) query.set("cursor", state.olderCursor);
  const id = state.openId;
  if (!id) return undefined;
  const [page] = /** @type {[Page<Message>, void]} */ (
    await Promise.all([api("GET", `${path(id)}/messages?${query}`), older ? undefined : voice.loadCalls(id)])
  );
  if (id !== state.openId) return undefined;
  if (!older) state.newestId = page.items[0]?.message_id ?? null;
  const list = $("#messages");
  const oldest = page.cursor ? (page.items.at(-1)?.created_at ?? null) : null; // more pages to come
  const items = voice.withCalls(page.items.map((m) => ({ at: m.created_at, node: messageItem(m, staffName) })), oldest);
  if (older) {
    list.prepend(...items);
  } else {
    list.replaceChildren(...items);
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
  }
  state.olderCursor = page.cursor ?? null;
  show(list);
  show($("#older-messages"), Boolean(page.cursor));
  return undefined;
}

/** Only the messages after the newest one shown: appended, nothing re-read. */
async function loadNewer() {
  const id = state.openId;
  if (!id || !state.newestId) return;
  const query = new URLSearchParams({ limit: "50", after: state.newestId });
  const page = /** @type {Page<Message>} */ (await api("GET", `${path(id)}/messages?${query}`));
  if (id !== state.openId || !page.items.length) return;
  if (page.cursor) {
    await loadThread(); // more than a page arrived: show the newest page afresh
    return;
  }
  state.newestId = page.items[0].message_id;
  const list = $("#messages");
  const shown = new Set([...list.children].map((li) => /** @type {HTMLElement} */ (li).dataset.id));
  const fresh = page.items.filter((m) => !shown.has(m.message_id)).reverse(); // oldest first
  list.append(...fresh.map((m) => messageItem(m, staffName)));
  list.lastElementChild?.scrollIntoView({ block: "nearest" });
}

/** @param {Conversation} conversation */
async function markRead(conversation) {
  await api("POST", `${path(conversation.conversation_id)}/read`);
  conversation.unread_count = 0;
  renderList();
}

/** @param {Conversation} conversation */
function renderHeader(conversation) {
  $("#thread-title").textContent = clientLabel(conversation);
  const flags = [];
  if (conversation.opted_out) flags.push("Opted out (texted STOP): nothing can be sent until they text START.");
  flags.push(
    conversation.consent_mode === "plain_sms"
      ? "Consent: plain texts."
      : conversation.consent_mode === "secure_link"
        ? "Consent: secure links only."
        : "No consent recorded: only secure links can be sent.",
  );
  $("#thread-flags").textContent = flags.join(" ");
}

/**
 * @param {string} id
 * @param {{ focus?: boolean }} [options]
 */
export async function openConversation(id, { focus = true } = {}) {
  state.openId = id;
  state.olderCursor = null;
  state.contact = null;
  let conversation = state.conversations.find((c) => c.conversation_id === id);
  try {
    if (!conversation) {
      conversation = /** @type {Conversation} */ (await api("GET", path(id)));
      state.conversations.unshift(conversation);
    }
    state.openActivity = conversation.last_activity_at;
    renderList();
    renderHeader(conversation);
    voice.openThread(id, staffName);
    void schedule.openThread(id);
    show($("#thread-empty"), false);
    show($("#compose"));
    show($("#new-contact-form"), false);
    say($("#compose-error"), "");
    say($("#compose-status"), "");
    showPane("thread", { focus: false });
    const mode = conversation.consent_mode === "plain_sms" ? "plain" : "secure_link";
    $(`#compose input[name=mode][value=${mode}]`, HTMLInputElement).checked = true;
    updateCounter();
    if (focus) $("#thread-title").focus();
    await Promise.all([loadThread(), loadContact(id)]);
    if (conversation.unread_count) await markRead(conversation);
  } catch (error) {
    if (!sessionEnded(error)) say($("#compose-error"), problem(error));
  }
}

function closeThread() {
  state.openId = null;
  state.newestId = null;
  state.contact = null;
  voice.openThread(null, staffName);
  void schedule.openThread(null);
  $("#thread-title").textContent = "No conversation open";
  $("#thread-flags").textContent = "";
  clear($("#messages"));
  show($("#messages"), false);
  show($("#older-messages"), false);
  show($("#thread-empty"));
  show($("#compose"), false);
  $("#compose-body", HTMLTextAreaElement).value = "";
  clearContact();
  showPane("list", { focus: false });
}

// --- compose -------------------------------------------------------------------------------
/** @returns {SendMode} */
function mode() {
  return $("#compose input[name=mode]:checked", HTMLInputElement).value === "secure_link" ? "secure_link" : "plain";
}

function updateCounter() {
  const text = $("#compose-body", HTMLTextAreaElement).value;
  $("#segment-counter").textContent =
    mode() === "secure_link"
      ? `${describeSegments(text)} — sent as a secure link: the text itself is not texted.`
      : describeSegments(text);
}

function renderTemplates() {
  const picker = $("#template-picker");
  picker.replaceChildren(h("option", { value: "" }, "Insert a template…"));
  for (const template of state.templates) {
    picker.append(h("option", { value: template.template_id }, template.name));
  }
}

/** @param {SubmitEvent} event */
async function send(event) {
  event.preventDefault();
  const body = $("#compose-body", HTMLTextAreaElement).value;
  say($("#compose-error"), "");
  say($("#compose-status"), "");
  if (!body.trim()) return say($("#compose-error"), "Write a message first.");
  const id = state.openId;
  if (!id) return undefined;
  const button = $("#send", HTMLButtonElement);
  button.disabled = true;
  try {
    await api("POST", `${path(id)}/messages`, { body, mode: mode() });
    $("#compose-body", HTMLTextAreaElement).value = "";
    updateCounter();
    say($("#compose-status"), mode() === "secure_link" ? "Secure link queued." : "Message queued.");
    await loadThread({ newer: true });
  } catch (error) {
    if (!sessionEnded(error)) say($("#compose-error"), problem(error));
  } finally {
    button.disabled = false;
  }
  return undefined;
}

// --- the client's details ----------------------------------------------------------------------
function clearContact() {
  for (const id of ["#contact-phone", "#contact-name", "#contact-consent", "#contact-assigned"]) {
    $(id).textContent = "";
  }
  $("#contact-name-input", HTMLInputElement).value = "";
  $("#consent-confirm", HTMLInputElement).checked = false;
  for (const radio of $$("#contact-form input[name=consent]", HTMLInputElement)) radio.checked = false;
  clear($("#assign-to"));
  say($("#contact-error"), "");
  say($("#contact-status"), "");
  show($("#wipe-confirm"), false);
  show($("#contact-details"), false);
  show($("#contact-empty"), true);
}

/**
 * @param {Contact} contact
 * @param {Me} me
 */
function renderContact(contact, me) {
  $("#contact-phone").textContent = contact.phone_number;
  $("#contact-name").textContent = contact.display_name || "—";
  $("#contact-consent").textContent = consentText(contact.consent) + (contact.opted_out ? "; opted out" : "");
  $("#contact-assigned").textContent = assignee(contact.assigned_to);
  $("#contact-name-input", HTMLInputElement).value = contact.display_name || "";
  $("#consent-confirm", HTMLInputElement).checked = false;
  for (const radio of $$("#contact-form input[name=consent]", HTMLInputElement)) {
    radio.checked = Boolean(contact.consent) && radio.value === contact.consent?.mode;
  }
  const select = $("#assign-to", HTMLSelectElement);
  const options = [h("option", { value: "" }, "Unassigned")];
  if (me.role === "admin") {
    for (const user of state.users.filter((u) => u.enabled)) {
      options.push(h("option", { value: user.user_id }, user.email + (user.user_id === me.user_id ? " (you)" : "")));
    }
  } else {
    options.push(h("option", { value: me.user_id }, "Me"));
  }
  select.replaceChildren(...options);
  select.value = contact.assigned_to || "";
  show($("#wipe-box"), me.role === "admin");
  show($("#wipe-confirm"), false);
  show($("#contact-empty"), false);
  show($("#contact-details"));
}

/** @param {string} id */
async function loadContact(id) {
  const contact = /** @type {Contact} */ (await api("GET", `/contacts/${encodeURIComponent(id)}`));
  if (id !== state.openId || !state.me) return;
  state.contact = contact;
  renderContact(contact, state.me);
}

/**
 * @param {string | undefined} value a consent radio's value
 * @returns {ConsentMode}
 */
function consentMode(value) {
  return value === "plain_sms" ? "plain_sms" : "secure_link";
}

/** @param {SubmitEvent} event */
async function saveContact(event) {
  event.preventDefault();
  say($("#contact-error"), "");
  say($("#contact-status"), "");
  clearFieldErrors($("#contact-form"));
  const id = state.openId;
  const contact = state.contact;
  if (!id || !contact) return undefined;
  /** @type {{ display_name?: string, consent?: { mode: ConsentMode, wording_version: string } }} */
  const change = {};
  const name = $("#contact-name-input", HTMLInputElement).value.trim();
  if (name && name !== (contact.display_name || "")) change.display_name = name;
  const [chosen] = $$("#contact-form input[name=consent]:checked", HTMLInputElement);
  const current = contact.consent ? contact.consent.mode : null;
  if (chosen && chosen.value !== current) {
    if (!$("#consent-confirm", HTMLInputElement).checked) {
      return fieldError($("#consent-confirm"), "Confirm that you recorded the client's choice with this wording.");
    }
    change.consent = {
      mode: consentMode(chosen.value),
      wording_version: $("#consent-wording", HTMLInputElement).value.trim(),
    };
  }
  if (!Object.keys(change).length) return say($("#contact-status"), "Nothing to save.");
  try {
    state.contact = /** @type {Contact} */ (await api("PATCH", `/contacts/${encodeURIComponent(id)}`, change));
    if (state.me) renderContact(state.contact, state.me);
    await loadList();
    const conversation = state.conversations.find((c) => c.conversation_id === id);
    if (conversation) {
      renderHeader(conversation);
      if (change.consent) {
        const next = change.consent.mode === "plain_sms" ? "plain" : "secure_link";
        $(`#compose input[name=mode][value=${next}]`, HTMLInputElement).checked = true;
        updateCounter();
      }
    }
    say($("#contact-status"), "Saved.");
  } catch (error) {
    const fields = { display_name: "contact-name-input", wording_version: "consent-wording" };
    if (!showFieldErrors(error, fields) && !sessionEnded(error)) say($("#contact-error"), problem(error));
  }
  return undefined;
}

/** @param {SubmitEvent} event */
async function saveAssignment(event) {
  event.preventDefault();
  say($("#contact-error"), "");
  const id = state.openId;
  if (!id) return;
  const userId = $("#assign-to", HTMLSelectElement).value || null;
  try {
    await api("PUT", `${path(id)}/assignment`, { user_id: userId });
    await loadContact(id);
    await loadList();
    say($("#contact-status"), "Assignment saved.");
  } catch (error) {
    if (!sessionEnded(error)) say($("#contact-error"), problem(error));
  }
}

async function wipe() {
  const id = state.openId;
  if (!id) return;
  try {
    const result = /** @type {{ messages_deleted: number }} */ (
      await api("DELETE", `/contacts/${encodeURIComponent(id)}`)
    );
    state.conversations = state.conversations.filter((c) => c.conversation_id !== id);
    closeThread();
    renderList();
    say($("#list-status"), `Conversation wiped (${result.messages_deleted} messages deleted).`);
    $("#thread-title").focus();
    showPane("list"); // a phone goes back to the list (a desktop keeps the focus above)
  } catch (error) {
    if (!sessionEnded(error)) say($("#contact-error"), problem(error));
  }
}

// --- new contact (new_contact.js) ------------------------------------------------------------
const newContact = {
  closeThread,
  threadOpen: () => Boolean(state.openId),
  async created(/** @type {string} */ id) {
    await loadList();
    await openConversation(id);
  },
};

// --- lifecycle -----------------------------------------------------------------------------
export function bind() {
  const filter = $("#list-filter", HTMLSelectElement);
  filter.addEventListener("change", async () => {
    state.filter = filter.value;
    state.cursor = null;
    state.morePages = false;
    state.conversations = [];
    await refresh();
  });
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, returned, { passive: true });
  show($("#push-enable"), push.supported());
  $("#push-enable").addEventListener("click", () =>
    push
      .enable()
      .then((said) => say($("#push-status"), said))
      .catch((error) => sessionEnded(error) || say($("#push-status"), "Notifications could not be turned on.")),
  );
  document.addEventListener("visibilitychange", returned);
  $("#load-more").addEventListener("click", () => loadList({ more: true }).catch(() => {}));
  $("#older-messages").addEventListener("click", () => loadThread({ older: true }).catch(() => {}));
  bindNewContact(newContact);
  $("#compose").addEventListener("submit", send);
  $("#compose-body").addEventListener("input", updateCounter);
  for (const radio of $$("#compose input[name=mode]", HTMLInputElement)) {
    radio.addEventListener("change", updateCounter);
  }
  const picker = $("#template-picker", HTMLSelectElement);
  picker.addEventListener("change", () => {
    const template = state.templates.find((t) => t.template_id === picker.value);
    picker.value = "";
    if (!template) return;
    const box = $("#compose-body", HTMLTextAreaElement);
    const start = box.selectionStart ?? box.value.length;
    box.value = box.value.slice(0, start) + template.body + box.value.slice(box.selectionEnd ?? start);
    box.focus();
    updateCounter();
  });
  $("#contact-form").addEventListener("submit", saveContact);
  $("#assign-form").addEventListener("submit", saveAssignment);
  $("#wipe-start").addEventListener("click", () => {
    show($("#wipe-confirm"));
    $("#wipe-no").focus();
  });
  $("#wipe-no").addEventListener("click", () => {
    show($("#wipe-confirm"), false);
    $("#wipe-start").focus();
  });
  $("#wipe-yes").addEventListener("click", wipe);
  voice.bind();
  document.addEventListener("quietline:calls-changed", () => loadThread().catch(() => {}));
}

/** @param {Me} me */
export async function open(me) {
  state.me = me;
  try {
    const [templates, users] = /** @type {[Page<Template>, Page<StaffUser>]} */ (
      await Promise.all([
        api("GET", "/templates"),
        me.role === "admin" ? api("GET", "/users") : Promise.resolve({ items: [] }),
      ])
    );
    state.templates = templates.items;
    state.users = users.items;
    renderTemplates();
    await loadList();
  } catch (error) {
    if (!sessionEnded(error)) say($("#list-status"), problem(error));
  }
  // Live updates: the socket names what changed; the slow poll runs only while it is down.
  // Either way an unattended inbox makes no requests, so the server's idle logoff holds.
  live.start({
    changed,
    status: (up) => {
      clearInterval(state.poll);
      state.poll = up ? undefined : setInterval(changed, POLL_MS);
      if (up) changed(); // whatever changed while the socket was connecting
    },
  });
  state.poll = setInterval(changed, POLL_MS);
}

export function reloadTemplates() {
  if (!state.me) return;
  api("GET", "/templates")
    .then((answer) => {
      const page = /** @type {Page<Template>} */ (answer);
      state.templates = page.items;
      renderTemplates();
    })
    .catch(() => {});
}

/** The open conversation's id (not PHI): the app lock reopens it after unlocking. */
export function openConversationId() {
  return state.openId;
}

/** Signed out: stop polling and take every client detail out of the page. */
export function close() {
  live.stop();
  clearInterval(state.poll);
  const empty = { me: null, conversations: [], cursor: null, morePages: false, openActivity: null };
  Object.assign(state, { since: null, newestId: null, stale: false });
  Object.assign(state, empty, { templates: [], users: [], poll: undefined, filter: "all" });
  $("#list-filter", HTMLSelectElement).value = "all";
  closeThread();
  voice.close();
  resetNewContact(newContact);
  clear($("#conversation-list"));
  renderTemplates();
  say($("#list-status"), "");
  show($("#load-more"), false);
}
