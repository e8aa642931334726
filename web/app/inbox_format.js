// @ts-check
// How the inbox shows a conversation row and a message (split out of inbox.js): the client
// by name or masked number, last activity and unread count; each message's author, time,
// delivery status and how it reached the client (plain text, secure link, one-time code).

import { h, when } from "./dom.js";

/** @import { Conversation, Message } from "./session.js" */
/**
 * A row of GET /conversations: an unnamed client comes with their number masked ("…0142").
 * @typedef {Conversation & { number_hint?: string | null }} ListedConversation
 */
/**
 * A message of a thread, with how it was sent and (secure links) when the client opened it.
 * @typedef {Message & { kind?: "plain" | "secure_link" | "verification_code",
 *   opened_at?: string | null }} ThreadMessage
 */

/** @param {ListedConversation} conversation */
export function clientLabel(conversation) {
  if (conversation.display_name) return conversation.display_name;
  return conversation.number_hint ? `Client ${conversation.number_hint}` : "Client";
}

/**
 * One row of the conversation list.
 * @param {ListedConversation} conversation
 * @param {{ current: boolean, assignee: string, onOpen: () => void }} options
 */
export function conversationRow(conversation, { current, assignee, onOpen }) {
  const unread = conversation.unread_count || 0;
  const meta = [when(conversation.last_activity_at), assignee, conversation.opted_out ? "Opted out" : null];
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: "conversation" + (unread ? " unread" : ""),
        "aria-current": current ? "true" : null,
        dataset: { id: conversation.conversation_id },
        onclick: onOpen,
      },
      h("span", { class: "conversation-name" }, clientLabel(conversation)),
      unread ? h("span", { class: "badge" }, String(unread), h("span", { class: "visually-hidden" }, " unread")) : null,
      h("span", { class: "conversation-meta" }, meta.filter(Boolean).join(" · ")),
    ),
  );
}

/**
 * How an outbound message reached the client, in words (secure links: opened or not).
 * @param {ThreadMessage} message
 */
export function deliveryKind(message) {
  if (message.kind === "secure_link") {
    return message.opened_at ? `Secure link · opened ${when(message.opened_at)}` : "Secure link · not opened yet";
  }
  if (message.kind === "verification_code") return "One-time code";
  return "Plain text";
}

/**
 * One message of the thread.
 * @param {ThreadMessage} message
 * @param {(userId: string | null) => string} staffName
 */
export function messageItem(message, staffName) {
  const outbound = message.direction === "outbound";
  const author = !outbound ? "Client" : message.sent_by === "system" ? "Automatic" : staffName(message.sent_by);
  const details = [author, when(message.created_at)];
  if (outbound) details.push(message.status + (message.failure_reason ? ` (${message.failure_reason})` : ""));
  const kind = outbound ? message.kind || "plain" : "inbound";
  return h(
    "li",
    { class: `message ${message.direction}`, dataset: { id: message.message_id, kind } },
    h("p", { class: "message-meta" }, details.join(" · ")),
    outbound ? h("p", { class: `message-kind kind-${kind}` }, deliveryKind(message)) : null,
    h("p", { class: "message-body" }, message.body),
  );
}

/** How the client's consent reads in the client panel. @param {import("./session.js").ConsentRecord | null} consent */
export function consentText(consent) {
  if (!consent) return "None recorded";
  const what = consent.mode === "plain_sms" ? "Plain texts" : "Secure links only";
  return `${what} (wording ${consent.wording_version}, ${when(consent.captured_at)})`;
}
