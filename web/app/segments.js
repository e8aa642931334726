// @ts-check
// How many SMS segments a body costs: a port of functions/logic/segments.py (the server's
// count is the one that bills; this one is for the live counter while typing).
// tests/browser/test_segments_js.py runs both over the same vectors.
//
// GSM-7: 160 septets in one segment, 153 per part when concatenated; extension characters
// cost two septets. Anything outside GSM-7 sends the whole text as UCS-2: 70 UTF-16 code
// units, 67 per part. A character never splits across parts.

const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENSION = new Set("\f^{}\\[~]|€");

const GSM_SINGLE = 160;
const GSM_MULTI = 153;
const UCS2_SINGLE = 70;
const UCS2_MULTI = 67;

/**
 * @param {string} char
 * @returns {1 | 2 | null}
 */
function gsmCost(char) {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENSION.has(char)) return 2;
  return null;
}

/**
 * @param {number[]} costs
 * @param {number} single
 * @param {number} multi
 */
function pack(costs, single, multi) {
  const total = costs.reduce((sum, cost) => sum + cost, 0);
  if (total <= single) return 1; // an empty body still costs one segment if sent
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > multi) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return segments;
}

/**
 * @typedef {object} SegmentCount
 * @property {"GSM-7" | "UCS-2"} encoding
 * @property {number} segments
 * @property {number} characters code points
 * @property {number} units septets (GSM-7) or UTF-16 code units (UCS-2)
 */

/**
 * @param {string} body
 * @returns {SegmentCount}
 */
export function countSegments(body) {
  const chars = Array.from(body); // code points, as Python iterates a str
  const gsm = chars.map(gsmCost);
  if (gsm.every(/** @returns {cost is 1 | 2} */ (cost) => cost !== null)) {
    const units = gsm.reduce((sum, cost) => sum + cost, 0);
    return {
      encoding: "GSM-7",
      segments: pack(gsm, GSM_SINGLE, GSM_MULTI),
      characters: chars.length,
      units,
    };
  }
  const costs = chars.map((char) => ((char.codePointAt(0) ?? 0) > 0xffff ? 2 : 1));
  return {
    encoding: "UCS-2",
    segments: pack(costs, UCS2_SINGLE, UCS2_MULTI),
    characters: chars.length,
    units: costs.reduce((sum, cost) => sum + cost, 0),
  };
}

/**
 * A short sentence for the counter under the compose box.
 * @param {string} body
 * @param {number} [maxChars]
 */
export function describeSegments(body, maxChars = 1600) {
  const info = countSegments(body);
  const parts = info.segments === 1 ? "1 segment" : `${info.segments} segments`;
  const over = info.characters > maxChars ? ` (over the ${maxChars}-character limit)` : "";
  return `${info.characters} characters · ${parts} · ${info.encoding}${over}`;
}
