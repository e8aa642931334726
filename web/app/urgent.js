// @ts-check
// Urgent conversations: the crisis safety net's flags (docs/crisis.md). Flagged
// conversations sit above every other one in the list, marked "Urgent", until a staff
// member clears the flag from the open thread (the API audits who cleared it). The list
// of flags comes from GET /urgent-conversations, so a flagged conversation shows even when
// its last activity would put it on a later page. Nothing here goes into the address bar
// or storage.

import { $, h, say } from "./dom.js";
import { api, problem, sessionEnded } from "./session.js";

/** @import { Conversation } from "./session.js" */

const REFETCH_MS = 5_000; // the inbox re-renders often; the flags are read at most this often

let flagged = /** @type {Conversation[]} */ ([]);
let fetchedAt = 0;
let fetching = /** @type {Promise<void> | null} */ (null);
let observer = /** @type {MutationObserver | null} */ (null);
let open = /** @type {(id: string) => unknown} */ (() => undefined);

/**
 * Decorate the inbox's list each time it is drawn (the inbox knows nothing of this module).
 * @param {(id: string) => unknown} opener opens a conversation (the inbox's openConversation)
 */
export function watch(opener) {
  open = opener;
  observer = new MutationObserver(decorate);
  observer.observe($("#conversation-list"), { childList: true });
}

function decorate() {
  apply();
  if (Date.now() - fetchedAt < REFETCH_MS || fetching) return;
  fetching = load()
    .then(apply)
    .catch((error) => {
      if (!sessionEnded(error)) say($("#list-status"), problem(error));
    })
    .finally(() => {
      fetching = null;
    });
}

async function load() {
  const page = /** @type {{ items: Conversation[] }} */ (await api("GET", "/urgent-conversations"));
  flagged = page.items;
  fetchedAt = Date.now();
}

/** @param {Conversation} conversation */
function label(conversation) {
  return conversation.display_name || `Unnamed client (…${conversation.conversation_id.slice(-4)})`;
}

// Move flagged conversations to the top and mark them; show the open thread's flag.
function apply() {
  const list = $("#conversation-list");
  observer?.disconnect(); // our own changes to the list must not call us again
  for (const stale of list.querySelectorAll("li.urgent-only")) stale.remove();
  // Oldest flag first: prepend in reverse so the list reads oldest at the top.
  for (const conversation of [...flagged].reverse()) {
    const id = conversation.conversation_id;
    let button = /** @type {HTMLElement | null} */ (list.querySelector(`button.conversation[data-id="${CSS.escape(id)}"]`));
    let item = button?.parentElement;
    if (!button || !item) {
      button = h("button", { type: "button", class: "conversation", dataset: { id }, onclick: () => open(id) }, h("span", { class: "conversation-name" }, label(conversation)));
      item = h("li", { class: "urgent-only" }, button);
    }
    button.classList.add("urgent");
    if (!button.querySelector(".urgent-label")) button.prepend(h("span", { class: "urgent-label" }, "Urgent"));
    list.prepend(item);
  }
  const current = /** @type {HTMLElement | null} */ (list.querySelector('button.conversation[aria-current="true"]'));
  banner(current?.dataset.id ?? null);
  observer?.observe(list, { childList: true });
}

/** @param {string | null} openId */
function banner(openId) {
  const flags = $("#thread-flags");
  let box = document.getElementById("urgent-banner");
  const conversation = flagged.find((c) => c.conversation_id === openId);
  if (!conversation) {
    box?.remove();
    return;
  }
  if (box && box.dataset.id === openId) return;
  box?.remove();
  box = h(
    "div",
    { id: "urgent-banner", class: "urgent-banner", role: "status", dataset: { id: conversation.conversation_id } },
    h("strong", {}, "Urgent: "),
    "a crisis phrase was found in this client's texts; they were sent crisis resources and the on-call clinician was paged. ",
    "Follow up, then clear the flag. ",
    h("button", { type: "button", class: "secondary", id: "urgent-clear", onclick: () => clearFlag(conversation.conversation_id) }, "Clear urgent flag"),
  );
  flags.after(box);
}

/** @param {string} id */
async function clearFlag(id) {
  try {
    await api("DELETE", `/conversations/${encodeURIComponent(id)}/urgent`);
    flagged = flagged.filter((c) => c.conversation_id !== id);
    for (const button of document.querySelectorAll(`#conversation-list button.urgent[data-id="${CSS.escape(id)}"]`)) {
      button.classList.remove("urgent");
      button.querySelector(".urgent-label")?.remove();
    }
    banner(null);
  } catch (error) {
    if (!sessionEnded(error)) say($("#compose-error"), problem(error));
  }
}

export function close() {
  observer?.disconnect();
  observer = null;
  flagged = [];
  fetchedAt = 0;
  document.getElementById("urgent-banner")?.remove();
}
