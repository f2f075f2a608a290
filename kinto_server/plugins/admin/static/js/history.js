// A bucket's history (the history plugin): its entries, filtered by the
// server, and the difference one change made to its object.

import { paths } from "./api.js";
import { h, pretty, replace, timeText } from "./dom.js";
import { objectList } from "./lists.js";

/** What changed between two versions of an object's data, key by key. */
export function diff(before, after) {
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])].sort();
  const changes = [];
  for (const key of keys) {
    if (key === "last_modified") continue;
    const old = before ? before[key] : undefined;
    const now = after ? after[key] : undefined;
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    changes.push({ key, kind: old === undefined ? "added" : now === undefined ? "removed" : "changed", old, now });
  }
  return changes;
}

function diffTable(changes) {
  if (!changes.length) return h("p", { class: "muted" }, "No change to the data (permissions only).");
  return h(
    "table",
    { class: "diff" },
    h("thead", null, h("tr", null, h("th", null, "Field"), h("th", null, "Before"), h("th", null, "After"))),
    h(
      "tbody",
      null,
      changes.map((change) =>
        h(
          "tr",
          { class: change.kind },
          h("td", null, change.key),
          h("td", null, h("pre", null, change.old === undefined ? "—" : pretty(change.old))),
          h("td", null, h("pre", null, change.now === undefined ? "—" : pretty(change.now))),
        ),
      ),
    ),
  );
}

async function showEntry(context, container, bid, entry) {
  const query = new URLSearchParams({ uri: entry.uri, lt_last_modified: String(entry.last_modified), _sort: "-last_modified", _limit: "1" });
  const { json } = await context.api.get(`${paths.history(bid)}?${query}`);
  const previous = json.data[0];
  const before = entry.action === "create" || !previous ? null : previous.target.data;
  const after = entry.action === "delete" ? null : entry.target.data;
  replace(
    container,
    h("h3", null, `${entry.action} of ${entry.uri}`),
    h("p", { class: "muted" }, `By ${entry.user_id} at ${timeText(entry.last_modified)}`),
    diffTable(diff(before, after)),
  );
}

export async function history(container, context, bid, route) {
  const detail = h("div", { class: "history-entry" });
  const list = h("div");
  replace(container, list, detail);
  const entries = await objectList(list, {
    api: context.api,
    path: paths.history(bid),
    route,
    query: context.route.query,
    columns: () => ["last_modified", "action", "resource_name", "uri", "user_id"],
    objectLink: () => route,
    empty: "No history entry matches.",
  });
  list.addEventListener("click", async (event) => {
    const row = event.target.closest("tr[data-id]");
    if (!row) return;
    event.preventDefault();
    const { json } = await context.api.get(`${paths.history(bid)}?${new URLSearchParams({ id: row.dataset.id })}`);
    if (json.data[0]) await showEntry(context, detail, bid, json.data[0]);
  });
  return entries;
}
