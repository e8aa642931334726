// @ts-check
// RFC 6238 codes (30 s, 6 digits, SHA-1), computed in the browser with Web Crypto. Used
// only by the local demo panel, standing in for the authenticator app a person would use.

/** @param {string} secret */
function base32(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = secret.toUpperCase().replace(/=+$/, "");
  /** @type {number[]} */
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = alphabet.indexOf(char);
    if (value < 0) continue;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
}

/**
 * The code an authenticator app shows for `secret` (base32) at `at` (ms since the epoch).
 * @param {string} secret
 * @param {number} [at]
 */
export async function totp(secret, at = Date.now()) {
  const counter = Math.floor(at / 1000 / 30);
  const message = new ArrayBuffer(8);
  new DataView(message).setUint32(4, counter >>> 0);
  new DataView(message).setUint32(0, Math.floor(counter / 2 ** 32));
  const key = await crypto.subtle.importKey(
    "raw",
    base32(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const digest = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = digest[digest.length - 1] & 0x0f;
  const code =
    (((digest[offset] & 0x7f) << 24) |
      (digest[offset + 1] << 16) |
      (digest[offset + 2] << 8) |
      digest[offset + 3]) %
    1_000_000;
  return String(code).padStart(6, "0");
}

/**
 * Seconds until the current code rolls over.
 * @param {number} [at]
 */
export function secondsLeft(at = Date.now()) {
  return 30 - (Math.floor(at / 1000) % 30);
}
