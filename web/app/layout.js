// @ts-check
// The phone-first inbox: on a narrow screen one pane shows at a time (conversations →
// thread → client details) with back buttons; from 901 px up the three panes sit side by
// side and the back buttons are not shown (style.css). The page's address never changes:
// no conversation id goes into the URL or the history.

import { $ } from "./dom.js";

/** @typedef {"list" | "thread" | "contact"} Pane */

const NARROW = "(max-width: 900px)"; // as style.css: below this the panes do not fit side by side
let threadOpen = false;

/** Whether the inbox shows one pane at a time. */
export function narrow() {
  return window.matchMedia(NARROW).matches;
}

/**
 * Show one pane (on a phone; on a desktop all three stay in view). Focus moves to the
 * pane's heading so a screen reader announces where the person now is.
 * @param {Pane} pane
 * @param {{ focus?: boolean }} [options]
 */
export function showPane(pane, { focus = true } = {}) {
  const view = $("#inbox-view");
  if (pane === "thread") threadOpen = true;
  if (pane === "list") threadOpen = false;
  view.dataset.pane = pane;
  if (!focus || !narrow()) return;
  if (pane === "list") {
    const current = view.querySelector(".conversation[aria-current]");
    (current instanceof HTMLElement ? current : $("#list-title")).focus();
  } else {
    $(pane === "thread" ? "#thread-title" : "#contact-title").focus();
  }
}

export function bind() {
  $("#back-to-list").addEventListener("click", () => showPane("list"));
  $("#show-client").addEventListener("click", () => showPane("contact"));
  $("#back-from-client").addEventListener("click", () => showPane(threadOpen ? "thread" : "list"));
}
