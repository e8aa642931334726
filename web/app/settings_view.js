// @ts-check
// Two parts of the admin's practice settings (#15): the time-zone picker (every IANA zone
// the browser knows, the saved one kept even if it does not) and, under each keyword
// reply, the wording in effect: the practice's own, or the built-in one while it is empty.

import { $, h } from "./dom.js";

const REPLIES = ["help_reply", "stop_reply", "start_reply"];

/** @returns {string[]} */
function zones() {
  const intl = /** @type {{ supportedValuesOf?: (key: string) => string[] }} */ (Intl);
  return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : ["UTC"];
}

/**
 * Fill the select with the time zones, the saved one chosen.
 * @param {HTMLSelectElement} select
 * @param {string} current
 */
export function fillTimeZones(select, current) {
  const names = zones();
  if (current && !names.includes(current)) names.unshift(current);
  select.replaceChildren(...names.map((name) => h("option", { value: name }, name.replaceAll("_", " "))));
  select.value = current || "UTC";
}

/** @param {string} reply e.g. "help_reply" */
const idOf = (reply) => reply.replace("_", "-");

/** @param {Record<string, string>} defaults the built-in wording of each reply */
function showEffect(defaults) {
  for (const reply of REPLIES) {
    const own = $(`#${idOf(reply)}`, HTMLTextAreaElement).value.trim();
    $(`#${idOf(reply)}-effect`).textContent = own
      ? "In effect: your wording above."
      : `In effect, built in: “${defaults[reply] || ""}”`;
  }
}

/**
 * Show the wording in effect under each reply, and keep it current while typing.
 * @param {Record<string, string> | undefined} defaults from GET /settings
 */
export function showWordingInEffect(defaults) {
  const known = defaults || {};
  showEffect(known);
  for (const reply of REPLIES) $(`#${idOf(reply)}`).oninput = () => showEffect(known);
}
