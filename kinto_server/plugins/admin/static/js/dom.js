// Building the page from data without ever parsing data as HTML: text is
// set as text, so a record's content cannot run in the page.

const PROPERTIES = new Set(["value", "checked", "hidden", "disabled", "selected", "open"]);

export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (PROPERTIES.has(name)) element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

export const pretty = (value) => JSON.stringify(value, null, 2);

export function timeText(milliseconds) {
  if (typeof milliseconds !== "number") return "";
  return new Date(milliseconds).toISOString().replace("T", " ").slice(0, 19);
}

export function notice(message, kind = "info") {
  const notices = document.getElementById("notices");
  for (const shown of notices.children) if (shown.textContent === message) shown.remove();
  const item = h("p", { class: `notice ${kind}` }, message);
  notices.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 3000);
}

export function confirmDialog(message, action = "Delete") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-message").textContent = message;
  document.getElementById("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/** A debounced call: at most one run per `milliseconds`, the last one wins. */
export function debounce(run, milliseconds) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), milliseconds);
  };
}
