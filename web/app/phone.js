// The phone simulator (local mode): be a client. Sending posts the JSON message End User
// Messaging publishes for an inbound text to the local stand-in for its SNS topic; the
// practice's texts are read by polling the simulated carrier's outbox for this number.

import { $, h, linkify, say } from "./dom.js";

const POLL_MS = 1000;
const state = { demo: null, number: "", practice: "", seen: new Set(), timer: null };

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
  if (!state.number) return;
  const number = state.number;
  try {
    const query = new URLSearchParams({ to: number });
    const response = await fetch(`${state.demo.outbox_url}?${query}`, { cache: "no-store" });
    if (!response.ok || number !== state.number) return;
    for (const text of await response.json()) {
      if (state.seen.has(text.carrier_message_id)) continue;
      state.seen.add(text.carrier_message_id);
      bubble(text.body, false);
    }
  } catch {
    // the runtime may be restarting; try again next tick
  }
}

function useNumber(number) {
  state.number = number;
  state.practice = $("#practice-number").value;
  state.seen = new Set();
  $("#bubbles").replaceChildren();
  $("#screen-client").textContent = `This phone: ${number}`;
  $("#screen-practice").textContent = `Practice ${state.practice}`;
  say($("#phone-status"), "");
  poll();
}

async function send(body) {
  say($("#sms-error"), "");
  if (!body.trim()) return;
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
    state.demo = await response.json();
  } catch {
    $("#phone-unavailable").hidden = false;
    for (const control of document.querySelectorAll("input, textarea, button, select")) control.disabled = true;
    return;
  }
  const select = $("#practice-number");
  select.replaceChildren(...state.demo.practice_numbers.map((n) => h("option", { value: n }, n)));
  select.value = state.demo.business_number;
  $("#number-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("#client-number").value.replace(/[\s().-]/g, "");
    if (!/^\+\d{8,15}$/.test(number)) {
      say($("#phone-status"), "Enter the number in international form, for example +12065550101.");
      return;
    }
    useNumber(number);
    say($("#phone-status"), "Number set.");
  });
  $("#sms-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("#sms-body");
    const body = box.value;
    box.value = "";
    await send(body);
    box.focus();
  });
  $("#sms-body").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("#sms-form").requestSubmit();
    }
  });
  for (const button of document.querySelectorAll(".keyword")) {
    button.addEventListener("click", () => send(button.dataset.keyword));
  }
  useNumber($("#client-number").value.trim());
  state.timer = setInterval(poll, POLL_MS);
  document.body.dataset.ready = "true";
}

main();
