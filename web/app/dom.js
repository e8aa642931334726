// @ts-check
// Small DOM helpers. Text always goes in through textContent (never HTML strings): the
// page's CSP also forbids HTML sinks (require-trusted-types-for 'script').

/**
 * What h() accepts as attributes: `class`, `dataset`, `on<event>` listeners, and plain
 * attributes (null, undefined and false leave one out; true sets it empty).
 * @typedef {{ [name: string]: string | number | boolean | null | undefined
 *   | Record<string, string> | ((event: Event) => unknown) }} Attributes
 */
/** @typedef {Node | string | null | undefined | false} Child */

/**
 * h("p", {class: "x", onclick: fn}, "text", child) -> element
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = String(value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * @param {HTMLElement} element
 * @param {(Child | Child[])[]} children
 */
function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * The one element `selector` finds, checked to be a `type` (an HTMLElement unless said):
 * a missing element or one of another kind is a bug in the page, so it throws.
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {{ new (): T, prototype: T }} [type]
 * @returns {T}
 */
export function $(selector, type) {
  const found = document.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  const expected = type ?? HTMLElement;
  if (!(found instanceof expected)) throw new Error(`${selector} is not a ${expected.name}`);
  return /** @type {T} */ (found);
}

/**
 * Every element `selector` finds, each checked to be a `type` as in $().
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {{ new (): T, prototype: T }} [type]
 * @returns {T[]}
 */
export function $$(selector, type) {
  const expected = type ?? HTMLElement;
  return Array.from(document.querySelectorAll(selector), (found) => {
    if (!(found instanceof expected)) throw new Error(`${selector} is not a ${expected.name}`);
    return /** @type {T} */ (found);
  });
}

/** @param {Element} element */
export function clear(element) {
  element.replaceChildren();
}

/**
 * @param {HTMLElement} element
 * @param {boolean} [visible]
 */
export function show(element, visible = true) {
  element.hidden = !visible;
}

/**
 * Put a message in a status/alert region (role set in the HTML), or clear it.
 * @param {HTMLElement} element
 * @param {string | null | undefined} message
 */
export function say(element, message) {
  element.textContent = message || "";
  element.hidden = !message;
}

/**
 * Readable local time for an ISO timestamp.
 * @param {string | null | undefined} iso
 */
export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  });
}

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

/**
 * Text with its http(s) links as real links (each opens in a new tab, no referrer).
 * @param {string} text
 * @returns {(string | HTMLAnchorElement)[]}
 */
export function linkify(text) {
  /** @type {(string | HTMLAnchorElement)[]} */
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(
      h("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, match[0]),
    );
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}
