// @ts-check
// Passkeys (WebAuthn): enrol this device's passkey, list and remove one's own, answer an
// unlock challenge (the staff API's) and a sign-in challenge (Cognito's custom flow). The
// server makes every challenge and verifies every answer (functions/logic/passkeys.py,
// passkey_sign_in.py); this module only converts between the JSON the servers speak
// (base64url) and the ArrayBuffers the browser's WebAuthn API takes.

import { api } from "./session.js";

/**
 * @typedef {object} Passkey
 * @property {string} credential_id
 * @property {string} name
 * @property {string} created_at
 * @property {string | null} last_used_at
 */

/** @param {string} text base64url */
function bytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {ArrayBuffer} buffer */
function text(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {{ id: string, type?: string, transports?: string[] }[] | undefined} list */
function descriptors(list) {
  return (list || []).map((c) => ({ id: bytes(c.id), type: /** @type {"public-key"} */ ("public-key") }));
}

export function supported() {
  return typeof window.PublicKeyCredential === "function";
}

/** @returns {Promise<Passkey[]>} */
export async function list() {
  const page = /** @type {{ items: Passkey[] }} */ (await api("GET", "/me/passkeys"));
  return page.items;
}

/**
 * Enrol a passkey on this device (the browser asks for Face ID, a fingerprint, a PIN...).
 * @param {string} name
 */
export async function enrol(name) {
  const options = /** @type {any} */ (await api("POST", "/me/passkeys/options"));
  const created = /** @type {PublicKeyCredential | null} */ (
    await navigator.credentials.create({
      publicKey: {
        ...options,
        challenge: bytes(options.challenge),
        user: { ...options.user, id: bytes(options.user.id) },
        excludeCredentials: descriptors(options.excludeCredentials),
      },
    })
  );
  if (!created) throw new Error("no passkey was created");
  const response = /** @type {AuthenticatorAttestationResponse} */ (created.response);
  const credential = {
    id: created.id,
    rawId: text(created.rawId),
    type: created.type,
    response: {
      clientDataJSON: text(response.clientDataJSON),
      attestationObject: text(response.attestationObject),
      transports: response.getTransports ? response.getTransports() : [],
    },
    clientExtensionResults: {},
  };
  return /** @type {Passkey} */ (await api("POST", "/me/passkeys", { credential, name }));
}

/** @param {string} credentialId */
export async function remove(credentialId) {
  await api("DELETE", `/me/passkeys/${encodeURIComponent(credentialId)}`);
}

/**
 * The browser's answer to request options (JSON, base64url fields), as JSON.
 * @param {any} options
 */
async function assertion(options) {
  const asserted = /** @type {PublicKeyCredential | null} */ (
    await navigator.credentials.get({
      publicKey: {
        ...options,
        challenge: bytes(options.challenge),
        allowCredentials: descriptors(options.allowCredentials),
      },
    })
  );
  if (!asserted) throw new Error("no passkey answered");
  const response = /** @type {AuthenticatorAssertionResponse} */ (asserted.response);
  return {
    id: asserted.id,
    rawId: text(asserted.rawId),
    type: asserted.type,
    response: {
      clientDataJSON: text(response.clientDataJSON),
      authenticatorData: text(response.authenticatorData),
      signature: text(response.signature),
      userHandle: response.userHandle ? text(response.userHandle) : null,
    },
    clientExtensionResults: {},
  };
}

/** Answer the server's unlock challenge with one of this user's passkeys. */
export async function unlock() {
  const options = /** @type {any} */ (await api("POST", "/me/unlock/options"));
  await api("POST", "/me/unlock/passkey", { credential: await assertion(options) });
}

/**
 * Answer a sign-in challenge: Cognito hands over the options as a JSON string (they name
 * no credential and no host: the browser offers this site's passkeys), and takes the
 * answer as one.
 * @param {string} optionsJson
 * @returns {Promise<string>}
 */
export async function signInAnswer(optionsJson) {
  return JSON.stringify(await assertion(JSON.parse(optionsJson)));
}
