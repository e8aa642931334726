// Small DOM helpers. Text always goes in through textContent (never HTML strings): the
// page's CSP also forbids HTML sinks (require-trusted-types-for 'script').

/** h("p", {class: "x", onclick: fn}, "text", child) -> element */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
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

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

export function clear(element) {
  element.replaceChildren();
}

export function show(element, visible = true) {
  element.hidden = !visible;
}

/** Put a message in a status/alert region (role set in the HTML), or clear it. */
export function say(element, message) {
  element.textContent = message || "";
  element.hidden = !message;
}

/** Readable local time for an ISO timestamp. */
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

/** Text with its http(s) links as real links (each opens in a new tab, no referrer). */
export function linkify(text) {
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
