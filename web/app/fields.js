// @ts-check
// Form errors next to the field they are about. The API's 4xx names the field at fault
// (`errors: [{ field, problem }]`, never the value); each form maps those names to its
// inputs. The message goes in a paragraph right after the input, which the input names in
// aria-describedby and marks aria-invalid, so a screen reader reads it with the field.

import { ApiError } from "./session.js";

/** What a validation `problem` code means, in words (anything else: a generic line). */
const PROBLEMS = /** @type {Record<string, string>} */ ({
  missing: "This is required.",
  string_too_short: "This is required.",
  string_too_long: "This is too long.",
});
const PHONE_HELP = "Enter a phone number, for example (206) 555-0101 or +1 206 555 0101.";

/**
 * @param {string} problem
 * @param {string} field
 */
function words(problem, field) {
  if (PROBLEMS[problem]) return PROBLEMS[problem];
  if (/phone|number/.test(field)) return PHONE_HELP;
  return problem && /\s/.test(problem) ? `This ${problem}.` : "Check this field.";
}

/** @param {HTMLElement} input */
function errorFor(input) {
  const id = `${input.id}-field-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = document.createElement("p");
    note.id = id;
    note.className = "error field-error";
    note.hidden = true;
    // A checkbox sits inside its label: the note goes after the label, not inside it.
    (input.closest("label") || input).after(note);
  }
  return note;
}

/**
 * Put one message next to an input (empty: clear it).
 * @param {HTMLElement} input
 * @param {string} message
 */
export function fieldError(input, message) {
  const note = errorFor(input);
  note.textContent = message;
  note.hidden = !message;
  const described = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter((t) => t && t !== note.id);
  if (message) {
    described.push(note.id);
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
  if (described.length) input.setAttribute("aria-describedby", described.join(" "));
  else input.removeAttribute("aria-describedby");
}

/** @param {HTMLElement} form */
export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    if (input instanceof HTMLElement) fieldError(input, "");
  }
}

/**
 * Show an API error's fields next to their inputs; true if at least one was placed (the
 * first such input gets focus), false when the caller should show a form-level message.
 * @param {unknown} error
 * @param {Record<string, string>} inputs the API's field name -> the input's id
 */
export function showFieldErrors(error, inputs) {
  if (!(error instanceof ApiError) || (error.status !== 422 && error.status !== 400)) return false;
  /** @type {HTMLElement | null} */
  let first = null;
  for (const { field = "", problem = "" } of error.data.errors || []) {
    const key = Object.keys(inputs).find((name) => field === name || field.endsWith(`.${name}`));
    const input = key ? document.getElementById(inputs[key]) : null;
    if (!input) continue;
    fieldError(input, words(problem, field));
    first = first || input;
  }
  if (first) first.focus();
  return first !== null;
}
