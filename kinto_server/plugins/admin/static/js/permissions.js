// An object's permissions: its own ACL, edited, and who can read or write
// it in effect, and why (the bucket's or the collection's permissions, a
// group's membership, or the object's own).

import { ApiError, paths } from "./api.js";
import { h, notice, replace } from "./dom.js";

export const PERMISSIONS = {
  bucket: ["read", "write", "collection:create", "group:create"],
  collection: ["read", "write", "record:create"],
  group: ["read", "write"],
  record: ["read", "write"],
};

const GROUP_URI = /^\/buckets\/([^/]+)\/groups\/([^/]+)$/;

const SPECIAL = {
  "system.Everyone": "anyone, signed in or not",
  "system.Authenticated": "anyone signed in",
};

/** The objects whose permissions reach the object `ref`: itself and its parents, nearest last. */
function lineage(ref) {
  const chain = [{ kind: "bucket", id: ref.bid, path: paths.bucket(ref.bid) }];
  if (ref.cid) chain.push({ kind: "collection", id: ref.cid, path: paths.collection(ref.bid, ref.cid) });
  if (ref.gid) chain.push({ kind: "group", id: ref.gid, path: paths.group(ref.bid, ref.gid) });
  if (ref.rid) chain.push({ kind: "record", id: ref.rid, path: paths.record(ref.bid, ref.cid, ref.rid) });
  return chain;
}

/** What a permission on the object or an ancestor gives on the object: write
 * includes read; creating children in it lets one read its attributes. */
function grants(permission, own) {
  if (permission === "write") return ["read", "write"];
  if (permission === "read") return ["read"];
  if (own && permission.endsWith(":create")) return ["read"];
  return [];
}

/**
 * Who can read and write the object `ref` ({bid, cid?, gid?, rid?}), and why:
 * `{rows: [{principal, read: [reasons], write: [reasons]}], hidden: [what could not be read]}`.
 * Groups named in a permission are expanded to their members.
 */
export async function effectivePermissions(api, ref) {
  const rows = new Map();
  const hidden = [];
  const groups = new Map();
  const row = (principal) => {
    if (!rows.has(principal)) rows.set(principal, { principal, read: [], write: [] });
    return rows.get(principal);
  };
  const chain = lineage(ref);
  for (const object of chain) {
    const own = object === chain[chain.length - 1];
    let permissions;
    try {
      permissions = (await api.get(object.path)).json.permissions;
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 403 || failure.status === 401)) {
        hidden.push(`the permissions of ${object.kind} ${object.id}`);
        continue;
      }
      throw failure;
    }
    for (const [permission, principals] of Object.entries(permissions || {})) {
      for (const principal of principals) {
        const reason = `${permission} on ${object.kind} ${object.id}${permission.endsWith(":create") ? " (its attributes)" : ""}`;
        for (const access of grants(permission, own)) row(principal)[access].push(reason);
        const group = GROUP_URI.exec(principal);
        if (!group) continue;
        const members = await groupMembers(api, groups, group[1], group[2], hidden);
        for (const member of members) {
          for (const access of grants(permission, own)) row(member)[access].push(`${reason}, as a member of group ${group[2]}`);
        }
      }
    }
  }
  return { rows: [...rows.values()].sort((a, b) => a.principal.localeCompare(b.principal)), hidden };
}

async function groupMembers(api, cache, bid, gid, hidden) {
  const key = `${bid}/${gid}`;
  if (!cache.has(key)) {
    cache.set(
      key,
      api.get(paths.group(decodeURIComponent(bid), decodeURIComponent(gid))).then(
        (answer) => answer.json.data.members || [],
        () => {
          hidden.push(`the members of group ${gid}`);
          return [];
        },
      ),
    );
  }
  return cache.get(key);
}

function describe(principal) {
  return SPECIAL[principal] ? `${principal} (${SPECIAL[principal]})` : principal;
}

export function effectiveTable(result) {
  return h(
    "div",
    { class: "effective" },
    h("h3", null, "Who can read or write this, and why"),
    h(
      "table",
      null,
      h("thead", null, h("tr", null, h("th", null, "Principal"), h("th", null, "Read"), h("th", null, "Write"))),
      h(
        "tbody",
        null,
        result.rows.map((row) =>
          h(
            "tr",
            { "data-principal": row.principal },
            h("td", null, describe(row.principal)),
            h("td", { class: "read" }, row.read.length ? row.read.join("; ") : "—"),
            h("td", { class: "write" }, row.write.length ? row.write.join("; ") : "—"),
          ),
        ),
      ),
    ),
    result.hidden.length ? h("p", { class: "muted" }, "Not visible to you: ", result.hidden.join(", "), ".") : null,
  );
}

/** The ACL editor of the object at `path` (`kind`: bucket, collection, group, record) and the effective panel. */
export async function permissionsPanel(container, api, kind, path, ref) {
  const { json, etag } = await api.get(path);
  const current = json.permissions || {};
  const boxes = PERMISSIONS[kind].map((permission) => {
    const id = `acl-${permission.replace(":", "-")}`;
    const box = h("textarea", { id, rows: 3, value: (current[permission] || []).join("\n") });
    return { permission, box, element: h("div", { class: "field" }, h("label", { for: id }, permission), box) };
  });
  const error = h("p", { class: "error", role: "alert" });
  const effective = h("div", null, h("p", { class: "muted" }, "Computing…"));

  async function refreshEffective() {
    try {
      replace(effective, effectiveTable(await effectivePermissions(api, ref)));
    } catch (failure) {
      replace(effective, h("p", { class: "error" }, failure.message));
    }
  }

  async function save(event) {
    event.preventDefault();
    error.textContent = "";
    const permissions = {};
    for (const { permission, box } of boxes) {
      permissions[permission] = box.value.split(/[\n,]/).map((line) => line.trim()).filter(Boolean);
    }
    try {
      await api.request("PATCH", path, { body: { permissions }, ifMatch: etag });
      notice("Permissions saved.");
      await permissionsPanel(container, api, kind, path, ref);
    } catch (failure) {
      error.textContent =
        failure instanceof ApiError && failure.status === 412
          ? "Not saved: the object was changed by someone else meanwhile. Reload the page to see it."
          : failure instanceof ApiError
            ? failure.describe()
            : String(failure);
    }
  }

  replace(
    container,
    h(
      "form",
      { class: "acl", onsubmit: save },
      h("p", { class: "muted" }, "One principal per line: system.Everyone, system.Authenticated, account:<id>, a user id, or a group URI (/buckets/<bid>/groups/<gid>)."),
      boxes.map((box) => box.element),
      error,
      h("menu", null, h("button", { type: "submit" }, "Save permissions")),
    ),
    effective,
  );
  refreshEffective();
}
