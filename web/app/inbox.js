// The inbox: the conversation list (unread badges, assignment), the open thread, compose
// (templates, live segment count, plain or secure link) and the client's details (consent
// capture, assignment, wipe). Everything lives in memory: no ids, names, numbers or text
// ever go into the address bar, the title or browser storage.

import { $, clear, h, say, show, when } from "./dom.js";
import { ApiError, api, idleFor } from "./session.js";
import { describeSegments } from "./segments.js";

const POLL_MS = 15_000; // while someone is using the page (see docs/web.md)
const ACTIVE_WINDOW_MS = 60_000;

const state = {
  me: null,
  filter: "all",
  conversations: [],
  cursor: null,
  morePages: false,
  openId: null,
  openActivity: null,
  contact: null,
  olderCursor: null,
  templates: [],
  users: [], // admins only: for assignment
  poll: null,
};

const path = (id) => `/conversations/${encodeURIComponent(id)}`;

function problem(error) {
  if (!(error instanceof ApiError)) return "Something went wrong. Please try again.";
  if (error.status === 0) return error.message;
  if (error.status === 409) return error.data.error === "conflict" ? error.data.detail || "That conflicts with a change someone else made." : error.message;
  if (error.status === 422) {
    const fields = (error.data.errors || []).map((e) => e.field).filter(Boolean);
    return fields.length ? `Check these fields: ${fields.join(", ")}.` : "Check what you entered.";
  }
  if (error.status === 403) return "You do not have permission to do that.";
  if (error.status === 404) return "Not found: it may have been deleted or reassigned.";
  if (error.status === 503) return "Quietline is busy. Try again in a moment.";
  return error.message || "Something went wrong. Please try again.";
}

// --- conversation list ---------------------------------------------------------------------
function nameOf(conversation) {
  return conversation.display_name || `Unnamed client (…${conversation.conversation_id.slice(-4)})`;
}

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
    const unread = conversation.unread_count || 0;
    const current = conversation.conversation_id === state.openId;
    list.append(
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "conversation" + (unread ? " unread" : ""),
            "aria-current": current ? "true" : null,
            dataset: { id: conversation.conversation_id },
            onclick: () => openConversation(conversation.conversation_id),
          },
          h("span", { class: "conversation-name" }, nameOf(conversation)),
          unread
            ? h("span", { class: "badge" }, String(unread), h("span", { class: "visually-hidden" }, " unread"))
            : null,
          h(
            "span",
            { class: "conversation-meta" },
            [when(conversation.last_activity_at), assignee(conversation.assigned_to), conversation.opted_out ? "Opted out" : null]
              .filter(Boolean)
              .join(" · "),
          ),
        ),
      ),
    );
  }
  say($("#list-status"), state.conversations.length ? "" : "No conversations yet.");
  show($("#load-more"), Boolean(state.cursor));
}

function byActivity(a, b) {
  return (b.last_activity_at || "").localeCompare(a.last_activity_at || "");
}

async function loadList({ more = false } = {}) {
  const query = new URLSearchParams({ view: state.filter, limit: "50" });
  if (more && state.cursor) query.set("cursor", state.cursor);
  const page = await api("GET", `/conversations?${query}`);
  if (more) {
    const known = new Set(state.conversations.map((c) => c.conversation_id));
    state.conversations = state.conversations.concat(page.items.filter((c) => !known.has(c.conversation_id)));
    state.cursor = page.cursor;
    state.morePages = true;
  } else if (state.morePages) {
    // Keep what "Load more" brought in; the first page replaces what it covers.
    const fresh = new Set(page.items.map((c) => c.conversation_id));
    const older = state.conversations.filter((c) => !fresh.has(c.conversation_id));
    state.conversations = page.items.concat(older).sort(byActivity);
  } else {
    state.conversations = page.items;
    state.cursor = page.cursor;
  }
  renderList();
}

async function refresh() {
  try {
    await loadList();
    const open = state.conversations.find((c) => c.conversation_id === state.openId);
    if (open && open.last_activity_at !== state.openActivity) {
      state.openActivity = open.last_activity_at;
      await loadThread();
      if (open.unread_count) await markRead(open);
    }
  } catch (error) {
    if (error.status !== 401) say($("#list-status"), problem(error));
  }
}

// --- thread ------------------------------------------------------------------------------
function author(message) {
  if (message.direction === "inbound") return "Client";
  if (message.sent_by === "system") return "Automatic reply";
  if (state.me && message.sent_by === state.me.user_id) return "You";
  const user = state.users.find((u) => u.user_id === message.sent_by);
  return user ? user.email : "Staff";
}

function messageItem(message) {
  const details = [author(message), when(message.created_at)];
  if (message.direction === "outbound") {
    details.push(message.status + (message.failure_reason ? ` (${message.failure_reason})` : ""));
  }
  return h(
    "li",
    { class: `message ${message.direction}`, dataset: { id: message.message_id } },
    h("p", { class: "message-meta" }, details.join(" · ")),
    h("p", { class: "message-body" }, message.body),
  );
}

async function loadThread({ older = false } = {}) {
  const query = new URLSearchParams({ limit: "50" });
  if (older && state.olderCursor) query.set("cursor", state.olderCursor);
  const id = state.openId;
  const page = await api("GET", `${path(id)}/messages?${query}`);
  if (id !== state.openId) return;
  const list = $("#messages");
  const items = page.items.slice().reverse().map(messageItem); // oldest first
  if (older) {
    list.prepend(...items);
  } else {
    list.replaceChildren(...items);
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
  }
  state.olderCursor = page.cursor;
  show(list);
  show($("#older-messages"), Boolean(page.cursor));
}

async function markRead(conversation) {
  await api("POST", `${path(conversation.conversation_id)}/read`);
  conversation.unread_count = 0;
  renderList();
}

function renderHeader(conversation) {
  $("#thread-title").textContent = nameOf(conversation);
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

export async function openConversation(id, { focus = true } = {}) {
  state.openId = id;
  state.olderCursor = null;
  state.contact = null;
  let conversation = state.conversations.find((c) => c.conversation_id === id);
  try {
    if (!conversation) {
      conversation = await api("GET", path(id));
      state.conversations.unshift(conversation);
    }
    state.openActivity = conversation.last_activity_at;
    renderList();
    renderHeader(conversation);
    show($("#thread-empty"), false);
    show($("#compose"));
    show($("#new-contact-form"), false);
    say($("#compose-error"), "");
    say($("#compose-status"), "");
    const mode = conversation.consent_mode === "plain_sms" ? "plain" : "secure_link";
    $(`#compose input[name=mode][value=${mode}]`).checked = true;
    updateCounter();
    if (focus) $("#thread-title").focus();
    await Promise.all([loadThread(), loadContact(id)]);
    if (conversation.unread_count) await markRead(conversation);
  } catch (error) {
    if (error.status !== 401) say($("#compose-error"), problem(error));
  }
}

function closeThread() {
  state.openId = null;
  state.contact = null;
  $("#thread-title").textContent = "No conversation open";
  $("#thread-flags").textContent = "";
  clear($("#messages"));
  show($("#messages"), false);
  show($("#older-messages"), false);
  show($("#thread-empty"));
  show($("#compose"), false);
  $("#compose-body").value = "";
  clearContact();
}

// --- compose -------------------------------------------------------------------------------
function mode() {
  return document.querySelector("#compose input[name=mode]:checked").value;
}

function updateCounter() {
  const text = $("#compose-body").value;
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

async function send(event) {
  event.preventDefault();
  const body = $("#compose-body").value;
  say($("#compose-error"), "");
  say($("#compose-status"), "");
  if (!body.trim()) return say($("#compose-error"), "Write a message first.");
  const button = $("#send");
  button.disabled = true;
  try {
    await api("POST", `${path(state.openId)}/messages`, { body, mode: mode() });
    $("#compose-body").value = "";
    updateCounter();
    say($("#compose-status"), mode() === "secure_link" ? "Secure link queued." : "Message queued.");
    await loadThread();
  } catch (error) {
    if (error.status !== 401) say($("#compose-error"), problem(error));
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
  $("#contact-name-input").value = "";
  $("#consent-confirm").checked = false;
  for (const radio of document.querySelectorAll("#contact-form input[name=consent]")) radio.checked = false;
  clear($("#assign-to"));
  say($("#contact-error"), "");
  say($("#contact-status"), "");
  show($("#wipe-confirm"), false);
  show($("#contact-details"), false);
  show($("#contact-empty"), true);
}

function consentText(consent) {
  if (!consent) return "None recorded";
  const what = consent.mode === "plain_sms" ? "Plain texts" : "Secure links only";
  return `${what} (wording ${consent.wording_version}, ${when(consent.captured_at)})`;
}

function renderContact(contact) {
  $("#contact-phone").textContent = contact.phone_number;
  $("#contact-name").textContent = contact.display_name || "—";
  $("#contact-consent").textContent = consentText(contact.consent) + (contact.opted_out ? "; opted out" : "");
  $("#contact-assigned").textContent = assignee(contact.assigned_to);
  $("#contact-name-input").value = contact.display_name || "";
  $("#consent-confirm").checked = false;
  for (const radio of document.querySelectorAll("#contact-form input[name=consent]")) {
    radio.checked = Boolean(contact.consent) && radio.value === contact.consent.mode;
  }
  const select = $("#assign-to");
  const options = [h("option", { value: "" }, "Unassigned")];
  if (state.me.role === "admin") {
    for (const user of state.users.filter((u) => u.enabled)) {
      options.push(h("option", { value: user.user_id }, user.email + (user.user_id === state.me.user_id ? " (you)" : "")));
    }
  } else {
    options.push(h("option", { value: state.me.user_id }, "Me"));
  }
  select.replaceChildren(...options);
  select.value = contact.assigned_to || "";
  show($("#wipe-box"), state.me.role === "admin");
  show($("#wipe-confirm"), false);
  show($("#contact-empty"), false);
  show($("#contact-details"));
}

async function loadContact(id) {
  const contact = await api("GET", `/contacts/${encodeURIComponent(id)}`);
  if (id !== state.openId) return;
  state.contact = contact;
  renderContact(contact);
}

async function saveContact(event) {
  event.preventDefault();
  say($("#contact-error"), "");
  say($("#contact-status"), "");
  const change = {};
  const name = $("#contact-name-input").value.trim();
  if (name && name !== (state.contact.display_name || "")) change.display_name = name;
  const chosen = document.querySelector("#contact-form input[name=consent]:checked");
  const current = state.contact.consent ? state.contact.consent.mode : null;
  if (chosen && chosen.value !== current) {
    if (!$("#consent-confirm").checked) {
      return say($("#contact-error"), "Confirm that you recorded the client's choice with this wording.");
    }
    change.consent = { mode: chosen.value, wording_version: $("#consent-wording").value.trim() };
  }
  if (!Object.keys(change).length) return say($("#contact-status"), "Nothing to save.");
  try {
    const id = state.openId;
    state.contact = await api("PATCH", `/contacts/${encodeURIComponent(id)}`, change);
    renderContact(state.contact);
    await loadList();
    const conversation = state.conversations.find((c) => c.conversation_id === id);
    if (conversation) {
      renderHeader(conversation);
      if (change.consent) {
        const next = change.consent.mode === "plain_sms" ? "plain" : "secure_link";
        $(`#compose input[name=mode][value=${next}]`).checked = true;
        updateCounter();
      }
    }
    say($("#contact-status"), "Saved.");
  } catch (error) {
    if (error.status !== 401) say($("#contact-error"), problem(error));
  }
  return undefined;
}

async function saveAssignment(event) {
  event.preventDefault();
  say($("#contact-error"), "");
  const userId = $("#assign-to").value || null;
  try {
    await api("PUT", `${path(state.openId)}/assignment`, { user_id: userId });
    await loadContact(state.openId);
    await loadList();
    say($("#contact-status"), "Assignment saved.");
  } catch (error) {
    if (error.status !== 401) say($("#contact-error"), problem(error));
  }
}

async function wipe() {
  const id = state.openId;
  try {
    const result = await api("DELETE", `/contacts/${encodeURIComponent(id)}`);
    state.conversations = state.conversations.filter((c) => c.conversation_id !== id);
    closeThread();
    renderList();
    say($("#list-status"), `Conversation wiped (${result.messages_deleted} messages deleted).`);
    $("#thread-title").focus();
  } catch (error) {
    if (error.status !== 401) say($("#contact-error"), problem(error));
  }
}

// --- new contact ---------------------------------------------------------------------------
function startNewContact() {
  closeThread();
  show($("#contact-empty"), false);
  show($("#new-contact-form"));
  say($("#new-contact-error"), "");
  $("#new-phone").focus();
}

function resetNewContact() {
  $("#new-phone").value = "";
  $("#new-name").value = "";
  $("#new-confirm").checked = false;
  show($("#new-contact-form"), false);
  show($("#contact-empty"), !state.openId);
}

async function createContact(event) {
  event.preventDefault();
  say($("#new-contact-error"), "");
  const phone = $("#new-phone").value.trim();
  if (!phone) return say($("#new-contact-error"), "Enter the client's phone number.");
  if (!$("#new-confirm").checked) {
    return say($("#new-contact-error"), "Confirm that you recorded the client's choice with this wording.");
  }
  const payload = {
    phone_number: phone,
    consent: {
      mode: document.querySelector("#new-contact-form input[name=new-consent]:checked").value,
      wording_version: $("#new-wording").value.trim(),
    },
  };
  const name = $("#new-name").value.trim();
  if (name) payload.display_name = name;
  try {
    const contact = await api("POST", "/contacts", payload);
    resetNewContact();
    await loadList();
    await openConversation(contact.contact_id);
  } catch (error) {
    if (error.status === 409 && error.data.error === "conflict") {
      say($("#new-contact-error"), "This client is already in your inbox.");
    } else if (error.status === 422) {
      say($("#new-contact-error"), "Check the phone number (for example +1 206 555 0101) and the other fields.");
    } else if (error.status !== 401) {
      say($("#new-contact-error"), problem(error));
    }
  }
  return undefined;
}

// --- lifecycle -----------------------------------------------------------------------------
export function bind() {
  $("#list-filter").addEventListener("change", async (event) => {
    state.filter = event.currentTarget.value;
    state.cursor = null;
    state.morePages = false;
    state.conversations = [];
    await refresh();
  });
  $("#refresh-list").addEventListener("click", refresh);
  $("#load-more").addEventListener("click", () => loadList({ more: true }).catch(() => {}));
  $("#older-messages").addEventListener("click", () => loadThread({ older: true }).catch(() => {}));
  $("#new-contact").addEventListener("click", startNewContact);
  $("#new-cancel").addEventListener("click", resetNewContact);
  $("#new-contact-form").addEventListener("submit", createContact);
  $("#compose").addEventListener("submit", send);
  $("#compose-body").addEventListener("input", updateCounter);
  for (const radio of document.querySelectorAll("#compose input[name=mode]")) {
    radio.addEventListener("change", updateCounter);
  }
  $("#template-picker").addEventListener("change", (event) => {
    const template = state.templates.find((t) => t.template_id === event.currentTarget.value);
    event.currentTarget.value = "";
    if (!template) return;
    const box = $("#compose-body");
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
}

export async function open(me) {
  state.me = me;
  try {
    const [templates, users] = await Promise.all([
      api("GET", "/templates"),
      me.role === "admin" ? api("GET", "/users") : Promise.resolve({ items: [] }),
    ]);
    state.templates = templates.items;
    state.users = users.items;
    renderTemplates();
    await loadList();
  } catch (error) {
    if (error.status !== 401) say($("#list-status"), problem(error));
  }
  // Poll only while someone is using the page: an unattended inbox makes no requests, so
  // the server's idle logoff is not defeated by the page itself.
  state.poll = setInterval(() => {
    if (idleFor() < ACTIVE_WINDOW_MS && document.visibilityState === "visible") refresh();
  }, POLL_MS);
}

export function reloadTemplates() {
  if (!state.me) return;
  api("GET", "/templates")
    .then((page) => {
      state.templates = page.items;
      renderTemplates();
    })
    .catch(() => {});
}

/** Signed out: stop polling and take every client detail out of the page. */
export function close() {
  clearInterval(state.poll);
  Object.assign(state, {
    me: null,
    conversations: [],
    cursor: null,
    morePages: false,
    openActivity: null,
    templates: [],
    users: [],
    poll: null,
    filter: "all",
  });
  $("#list-filter").value = "all";
  closeThread();
  resetNewContact();
  clear($("#conversation-list"));
  renderTemplates();
  say($("#list-status"), "");
  show($("#load-more"), false);
}
