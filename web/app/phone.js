// @ts-check
// The phone simulator (local mode): be a client. Sending posts the JSON message End User
// Messaging publishes for an inbound text to the local stand-in for its SNS topic; the
// practice's texts are read by polling the simulated carrier's outbox for this number.
// Calls (to the practice, and from a clinician's click-to-call) are phone_calls.js's.

import { $, $$, h, linkify, say } from "./dom.js";
import { startCalls } from "./phone_calls.js";

/** @import { DemoInfo } from "./demo.js" */
/**
 * A text the simulated carrier delivered to this number (GET /local/outbox).
 * @typedef {{ carrier_message_id: string, body: string }} OutboxText
 */

const POLL_MS = 1000;
const state = {
  demo: /** @type {DemoInfo | null} */ (null),
  number: "",
  practice: "",
  seen: /** @type {Set<string>} */ (new Set()),
  timer: /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined),
};

/**
 * @param {string} text
 * @param {boolean} fromClient
 */
function bubble(text, fromClient) {
  const item = h(
    "li",
    { class: `bubble ${fromClient ? "from-client" : "from-practice"}` },
    h("span", { class: "visually-hidden" }, fromClient ? "You: " : "Practice: "),
    ...linkify(text),
  );
  const list = $("#bubbles");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function poll() {
  if (!state.number || !state.demo) return;
  const number = state.number;
  try {
    const query = new URLSearchParams({ to: number });
    const response = await fetch(`${state.demo.outbox_url}?${query}`, { cache: "no-store" });
    if (!response.ok || number !== state.number) return;
    for (const text of /** @type {OutboxText[]} */ (await response.json())) {
      if (state.seen.has(text.carrier_message_id)) continue;
      state.seen.add(text.carrier_message_id);
      bubble(text.body, false);
    }
  } catch {
    // the runtime may be restarting; try again next tick
  }
}

/** @param {string} number */
function useNumber(number) {
  state.number = number;
  state.practice = $("#practice-number", HTMLSelectElement).value;
  state.seen = new Set();
  $("#bubbles").replaceChildren();
  $("#screen-client").textContent = `This phone: ${number}`;
  $("#screen-practice").textContent = `Practice ${state.practice}`;
  say($("#phone-status"), "");
  poll();
}

/** @param {string} body */
async function send(body) {
  say($("#sms-error"), "");
  if (!body.trim() || !state.demo) return;
  const message = {
    originationNumber: state.number,
    destinationNumber: state.practice,
    messageBody: body,
    inboundMessageId: crypto.randomUUID(),
  };
  try {
    const response = await fetch(state.demo.aws_sms_inbound_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(message),
      cache: "no-store",
    });
    if (!response.ok) throw new Error(String(response.status));
    bubble(body, true);
  } catch {
    say($("#sms-error"), "The text was not accepted. Check the number (E.164, for example +12065550101).");
  }
}

async function main() {
  try {
    const response = await fetch("/local/demo", { cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    state.demo = /** @type {DemoInfo} */ (await response.json());
  } catch {
    $("#phone-unavailable").hidden = false;
    /** @type {NodeListOf<HTMLInputElement | HTMLTextAreaElement | HTMLButtonElement | HTMLSelectElement>} */
    const controls = document.querySelectorAll("input, textarea, button, select");
    for (const control of controls) control.disabled = true;
    return;
  }
  const demo = state.demo;
  const select = $("#practice-number", HTMLSelectElement);
  select.replaceChildren(...demo.practice_numbers.map((n) => h("option", { value: n }, n)));
  select.value = demo.business_number;
  $("#number-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("#client-number", HTMLInputElement).value.replace(/[\s().-]/g, "");
    if (!/^\+\d{8,15}$/.test(number)) {
      say($("#phone-status"), "Enter the number in international form, for example +12065550101.");
      return;
    }
    useNumber(number);
    say($("#phone-status"), "Number set.");
  });
  $("#sms-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("#sms-body", HTMLTextAreaElement);
    const body = box.value;
    box.value = "";
    await send(body);
    box.focus();
  });
  $("#sms-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#sms-form", HTMLFormElement).requestSubmit();
    }
  });
  for (const button of $$(".keyword")) {
    button.addEventListener("click", () => send(button.dataset.keyword ?? ""));
  }
  useNumber($("#client-number", HTMLInputElement).value.trim());
  state.timer = setInterval(poll, POLL_MS);
  startCalls(() => ({ number: state.number, practice: state.practice }));
  document.body.dataset.ready = "true";
}

main();
