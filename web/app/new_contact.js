// @ts-check
// The inbox's New contact form (split out of inbox.js): the number as people type it (the
// API reads national numbers in the practice's region), an optional name and the consent
// record; errors next to their field. The inbox hands in what it must do around it.

import { $, say, show } from "./dom.js";
import { ApiError, api, problem, sessionEnded } from "./session.js";
import { clearFieldErrors, fieldError, showFieldErrors } from "./fields.js";
import { showPane } from "./layout.js";

/** @import { ConsentMode, Contact } from "./session.js" */
/**
 * What the inbox does around the form.
 * @typedef {object} Host
 * @property {() => void} closeThread
 * @property {() => boolean} threadOpen
 * @property {(id: string) => Promise<void>} created list the new contact and open it
 */

/**
 * @param {string | undefined} value a consent radio's value
 * @returns {ConsentMode}
 */
function consentMode(value) {
  return value === "plain_sms" ? "plain_sms" : "secure_link";
}

/** The API's field names (422) -> the new-contact form's inputs. */
const NEW_CONTACT_FIELDS = {
  phone_number: "new-phone",
  display_name: "new-name",
  wording_version: "new-wording",
  mode: "new-wording",
};

/** @param {Host} host */
function startNewContact(host) {
  host.closeThread();
  show($("#contact-empty"), false);
  show($("#new-contact-form"));
  say($("#new-contact-error"), "");
  clearFieldErrors($("#new-contact-form"));
  showPane("contact", { focus: false });
  $("#new-phone").focus();
}

/**
 * Empty and hide the form (and on a phone, with no thread open, go back to the list).
 * @param {Host} host
 */
export function resetNewContact(host) {
  $("#new-phone", HTMLInputElement).value = "";
  $("#new-name", HTMLInputElement).value = "";
  $("#new-confirm", HTMLInputElement).checked = false;
  show($("#new-contact-form"), false);
  show($("#contact-empty"), !host.threadOpen());
  clearFieldErrors($("#new-contact-form"));
  if ($("#inbox-view").dataset.pane === "contact" && !host.threadOpen()) showPane("list", { focus: false });
}

/**
 * @param {Host} host
 * @param {SubmitEvent} event
 */
async function createContact(host, event) {
  event.preventDefault();
  say($("#new-contact-error"), "");
  clearFieldErrors($("#new-contact-form"));
  const phone = $("#new-phone", HTMLInputElement).value.trim();
  if (!phone) return fieldError($("#new-phone"), "Enter the client's phone number.");
  if (!$("#new-confirm", HTMLInputElement).checked) {
    return fieldError($("#new-confirm"), "Confirm that you recorded the client's choice with this wording.");
  }
  /** @type {{ phone_number: string, display_name?: string, consent: { mode: ConsentMode, wording_version: string } }} */
  const payload = {
    phone_number: phone,
    consent: {
      mode: consentMode($("#new-contact-form input[name=new-consent]:checked", HTMLInputElement).value),
      wording_version: $("#new-wording", HTMLInputElement).value.trim(),
    },
  };
  const name = $("#new-name", HTMLInputElement).value.trim();
  if (name) payload.display_name = name;
  try {
    const contact = /** @type {Contact} */ (await api("POST", "/contacts", payload));
    resetNewContact(host);
    await host.created(contact.contact_id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && error.data.error === "conflict") {
      fieldError($("#new-phone"), "This client is already in your inbox.");
    } else if (showFieldErrors(error, NEW_CONTACT_FIELDS)) {
      // shown next to the fields the API named
    } else if (!sessionEnded(error)) {
      say($("#new-contact-error"), problem(error));
    }
  }
  return undefined;
}

/** @param {Host} host */
export function bindNewContact(host) {
  $("#new-contact").addEventListener("click", () => startNewContact(host));
  $("#new-cancel").addEventListener("click", () => resetNewContact(host));
  $("#new-contact-form").addEventListener("submit", (event) => createContact(host, event));
}
