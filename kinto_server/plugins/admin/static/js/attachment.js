// A record's attached file (the attachments capability): what it is, its
// download through the API (with the user's credentials), a new upload
// (If-Match: the record as loaded), and its removal.

import { ApiError, paths } from "./api.js";
import { confirmDialog, h, notice, replace } from "./dom.js";

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The editor's extra field for ``attachment``: shown, never edited as JSON
 * (the server refuses changed metadata), and sent back unchanged on save.
 * ``version()`` is the record's current version; ``reload()`` shows it anew.
 */
export function attachmentField(api, bid, cid, rid, { version, reload }) {
  let current = null;
  let present = false; // whether the record has the field at all
  const panel = h("section", { class: "attachment", "aria-label": "Attachment" });
  const path = paths.attachment(bid, cid, rid);

  async function download() {
    try {
      const blob = await api.blob(path);
      const link = h("a", { href: URL.createObjectURL(blob), download: current.filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (failure) {
      notice(failure instanceof ApiError ? failure.describe() : String(failure), "error");
    }
  }

  async function upload(event) {
    const input = event.target.form.querySelector("input[type=file]");
    if (!input.files.length) return;
    const form = new FormData();
    form.append("attachment", input.files[0], input.files[0].name);
    try {
      await api.upload(path, form, { ifMatch: version() });
      notice("File uploaded.");
      reload();
    } catch (failure) {
      const text =
        failure instanceof ApiError && failure.status === 412
          ? "Not uploaded: the record was changed meanwhile. Reload it first."
          : failure instanceof ApiError
            ? failure.describe()
            : String(failure);
      notice(text, "error");
    }
  }

  async function remove() {
    if (!(await confirmDialog(`Remove the file ${current.filename}?`, "Remove"))) return;
    try {
      await api.request("DELETE", path, { ifMatch: version() });
      notice("File removed.");
      reload();
    } catch (failure) {
      notice(failure instanceof ApiError ? failure.describe() : String(failure), "error");
    }
  }

  function render() {
    replace(
      panel,
      h("h3", null, "Attachment"),
      current
        ? h(
            "p",
            { class: "file" },
            h("strong", null, current.filename),
            ` — ${sizeText(current.size)}, ${current.mimetype} `,
            h("button", { type: "button", class: "secondary", onclick: download }, "Download"),
            " ",
            h("button", { type: "button", class: "danger", onclick: remove }, "Remove file"),
          )
        : h("p", { class: "muted" }, "No file attached."),
      h(
        "p",
        null,
        h("input", { type: "file", "aria-label": "File to attach" }),
        " ",
        h("button", { type: "button", onclick: upload }, current ? "Replace file" : "Attach file"),
      ),
    );
  }

  return {
    name: "attachment",
    element: panel,
    load(data) {
      present = "attachment" in data;
      current = data.attachment || null;
      render();
    },
    read: () => (present ? { attachment: current } : {}),
  };
}
