// Editing one object's data: as JSON, or through a form generated from the
// collection's schema. Every save and delete carries If-Match with the
// version that was loaded: a change made meanwhile is shown as a conflict,
// both versions side by side, and nothing is overwritten unless asked.

import { ApiError } from "./api.js";
import { confirmDialog, h, notice, pretty, replace, timeText } from "./dom.js";
import { schemaForm, usableSchema } from "./schema_form.js";

const META = ["id", "last_modified"];

const without = (data, hidden) => Object.fromEntries(Object.entries(data || {}).filter(([key]) => !hidden.includes(key)));

/**
 * The editor of the object at `path`, in `container`.
 * options: {api, schema, extraFields: [{name, element, read, load}], onDeleted, onSaved, label}
 * Returns {changedRemotely(), element} for the page's live updates.
 */
export async function objectEditor(container, path, options) {
  const { api } = options;
  // Fields edited by their own inputs (a group's members) are not in the JSON.
  const hidden = [...META, ...(options.extraFields || []).map((extra) => extra.name)];
  const withoutMeta = (data) => without(data, hidden);
  let { json, etag } = await api.get(path);
  let loaded = json.data;
  let dirty = false;
  const status = h("p", { class: "muted" });
  const conflict = h("div", { class: "conflict", hidden: true });
  const remote = h("div", { class: "remote-change", hidden: true, role: "alert" });
  const error = h("p", { class: "error", role: "alert" });
  const textarea = h("textarea", { class: "json", rows: 16, "aria-label": "JSON", spellcheck: "false" });
  textarea.addEventListener("input", () => (dirty = true));
  let form = null;
  const formHolder = h("div");
  const useForm = usableSchema(options.schema);
  const modeToggle = useForm
    ? h("button", { type: "button", class: "secondary", onclick: toggleMode }, "Edit as JSON")
    : null;
  let mode = useForm ? "form" : "json";

  function show(data) {
    loaded = data;
    status.textContent = `Version ${data.last_modified} (${timeText(data.last_modified)})`;
    textarea.value = pretty(withoutMeta(data));
    for (const extra of options.extraFields || []) extra.load(data);
    if (useForm) {
      form = schemaForm(options.schema, withoutMeta(data));
      form.element.addEventListener("input", () => (dirty = true));
      replace(formHolder, form.element);
    }
    render();
    dirty = false;
  }

  function render() {
    formHolder.hidden = mode !== "form";
    textarea.hidden = mode !== "json";
    if (modeToggle) modeToggle.textContent = mode === "form" ? "Edit as JSON" : "Edit with the form";
  }

  function toggleMode() {
    try {
      const current = edited();
      mode = mode === "form" ? "json" : "form";
      textarea.value = pretty(current);
      form = schemaForm(options.schema, current);
      form.element.addEventListener("input", () => (dirty = true));
      replace(formHolder, form.element);
      render();
      error.textContent = "";
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  function edited() {
    let data;
    if (mode === "form") data = form.read();
    else {
      try {
        data = JSON.parse(textarea.value);
      } catch (failure) {
        throw new Error(`Not valid JSON: ${failure.message}`);
      }
      if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error("The data must be a JSON object.");
    }
    for (const extra of options.extraFields || []) Object.assign(data, extra.read());
    return data;
  }

  async function save(version) {
    error.textContent = "";
    let data;
    try {
      data = edited();
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    try {
      const answer = await api.request("PUT", path, { body: { data }, ifMatch: version });
      etag = answer.etag;
      conflict.hidden = true;
      remote.hidden = true;
      show(answer.json.data);
      notice("Saved.");
      if (options.onSaved) options.onSaved(answer.json.data);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) await showConflict(data);
      else error.textContent = failure instanceof ApiError ? failure.describe() : String(failure);
    }
  }

  async function showConflict(mine) {
    let theirs = null;
    let theirEtag = null;
    try {
      const answer = await api.get(path);
      theirs = answer.json.data;
      theirEtag = answer.etag;
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 404)) throw failure;
    }
    replace(
      conflict,
      h("h3", null, "Conflict: this object was changed by someone else since you opened it"),
      h(
        "div",
        { class: "sides" },
        h("section", null, h("h4", null, "Your version (not saved)"), h("pre", { class: "mine" }, pretty(mine))),
        h(
          "section",
          null,
          h("h4", null, theirs ? `On the server now (version ${theirs.last_modified})` : "Deleted on the server"),
          h("pre", { class: "theirs" }, theirs ? pretty(withoutMeta(theirs)) : "—"),
        ),
      ),
      h(
        "menu",
        null,
        theirs
          ? h("button", { type: "button", onclick: () => save(theirEtag) }, "Overwrite with my version")
          : null,
        theirs
          ? h("button", { type: "button", class: "secondary", onclick: () => ((etag = theirEtag), (conflict.hidden = true), show(theirs)) }, "Take the server's version")
          : null,
      ),
    );
    conflict.hidden = false;
  }

  async function remove() {
    if (!(await confirmDialog(`Delete ${options.label}? This cannot be undone.`))) return;
    try {
      await api.request("DELETE", path, { ifMatch: etag });
      notice(`${options.label} deleted.`);
      options.onDeleted();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) {
        error.textContent = "Not deleted: it was changed by someone else meanwhile. Reload to see the new version.";
      } else error.textContent = failure instanceof ApiError ? failure.describe() : String(failure);
    }
  }

  const element = h(
    "form",
    { class: "editor", onsubmit: (event) => (event.preventDefault(), save(etag)) },
    status,
    remote,
    (options.extraFields || []).map((extra) => extra.element),
    modeToggle,
    formHolder,
    textarea,
    error,
    h(
      "menu",
      null,
      h("button", { type: "submit" }, "Save"),
      options.onDeleted ? h("button", { type: "button", class: "danger", onclick: remove }, "Delete") : null,
    ),
    conflict,
  );
  replace(container, element);
  show(loaded);

  return {
    /** The version loaded (its ETag), for the writes made beside the editor. */
    version: () => etag,
    /** A change of this object arrived from the stream: say so, keep the edits. */
    changedRemotely(action, data) {
      if (data && loaded && data.last_modified === loaded.last_modified) return; // our own save
      if (!dirty && action !== "delete") {
        etag = String(data.last_modified);
        show(data);
        notice("Updated from the server.");
        return;
      }
      remote.textContent =
        action === "delete"
          ? "This object was deleted on the server. Your edits are kept here."
          : "This object was changed on the server. Your edits are kept; saving will show both versions.";
      remote.hidden = false;
    },
  };
}
