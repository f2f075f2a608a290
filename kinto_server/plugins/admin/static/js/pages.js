// The pages, one per location: the buckets, a bucket (its collections and
// groups), a collection (its records), an object (its data, permissions).

import { ApiError, paths } from "./api.js";
import { attachmentField } from "./attachment.js";
import { objectEditor } from "./editor.js";
import { h, notice, pretty, replace } from "./dom.js";
import { history } from "./history.js";
import { follow } from "./live.js";
import { objectList, recordColumns } from "./lists.js";
import { permissionsPanel } from "./permissions.js";
import { go, link } from "./router.js";

const ID = /^[a-zA-Z0-9_-]+$/;

function crumbs(parts) {
  const trail = [h("a", { href: "#/" }, "Buckets")];
  const kinds = { buckets: "bucket", collections: "collection", groups: "group", records: "record" };
  for (let index = 0; index + 1 < parts.length; index += 2) {
    if (!kinds[parts[index]]) break;
    trail.push(" / ", h("a", { href: link(parts.slice(0, index + 2)) }, `${kinds[parts[index]]} ${parts[index + 1]}`));
  }
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, trail);
}

function tabs(base, current, names) {
  return h(
    "nav",
    { class: "tabs" },
    names.map(([tab, label]) =>
      h("a", { href: link(tab ? [...base, tab] : base), class: tab === current ? "active" : null, "aria-current": tab === current ? "page" : null }, label),
    ),
  );
}

/** An object's page: where it is, its title, its tabs; returns the area below them. */
function frame(main, base, title, tab, names) {
  const body = h("div");
  replace(main, crumbs(base), h("h1", null, title), tabs(base, tab, names), body);
  return body;
}

function failure(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.describe() : String(error));
}

/** A form creating an object with the id typed (PUT If-None-Match: *), or a generated one when allowed. */
function createForm(context, label, pathFor, onCreated, { optionalId = false, body = () => ({}) } = {}) {
  const id = h("input", { "aria-label": `New ${label} id`, placeholder: optionalId ? `${label} id (empty: generated)` : `${label} id`, class: "new-id" });
  const error = h("span", { class: "error", role: "alert" });
  async function create(event) {
    event.preventDefault();
    error.textContent = "";
    const wanted = id.value.trim();
    if (!wanted && !optionalId) return;
    if (wanted && !ID.test(wanted)) {
      error.textContent = "An id is made of letters, digits, - and _.";
      return;
    }
    try {
      const answer = wanted
        ? await context.api.request("PUT", pathFor(wanted), { body: body(), ifNoneMatch: "*" })
        : await context.api.request("POST", pathFor(null), { body: body() });
      notice(`${label} ${answer.json.data.id} created.`);
      onCreated(answer.json.data);
    } catch (problem) {
      error.textContent =
        problem instanceof ApiError && problem.status === 412 ? `${label} ${wanted} already exists.` : problem instanceof ApiError ? problem.describe() : String(problem);
    }
  }
  return h("form", { class: "create", onsubmit: create }, id, h("button", { type: "submit" }, `Create ${label}`), error);
}

export async function homePage(context, main) {
  const list = h("div");
  replace(
    main,
    h("h1", null, "Buckets"),
    createForm(context, "bucket", (bid) => paths.bucket(bid), (data) => (context.refreshSidebar(), go(["buckets", data.id]))),
    list,
  );
  await objectList(list, {
    api: context.api,
    path: paths.buckets(),
    route: [],
    query: context.route.query,
    columns: () => ["id", "last_modified"],
    objectLink: (bucket) => ["buckets", bucket.id],
    empty: "No bucket you can read.",
  });
}

export async function bucketPage(context, main, bid, tab) {
  const base = ["buckets", bid];
  const names = [
    [null, "Collections"],
    ["groups", "Groups"],
    ["attributes", "Attributes"],
    ["permissions", "Permissions"],
  ];
  if (context.root.capabilities.history) names.push(["history", "History"]);
  const body = frame(main, base, `Bucket ${bid}`, tab, names);
  const { api } = context;
  if (!tab) {
    const list = h("div");
    replace(body, createForm(context, "collection", (cid) => paths.collection(bid, cid), (data) => go([...base, "collections", data.id])), list);
    await objectList(list, {
      api,
      path: paths.collections(bid),
      route: base,
      query: context.route.query,
      columns: () => ["id", "last_modified"],
      objectLink: (collection) => [...base, "collections", collection.id],
      empty: "No collection in this bucket yet.",
    });
  } else if (tab === "groups") {
    const list = h("div");
    replace(body, createForm(context, "group", (gid) => paths.group(bid, gid), (data) => go([...base, "groups", data.id]), { body: () => ({ data: { members: [] } }) }), list);
    await objectList(list, {
      api,
      path: paths.groups(bid),
      route: [...base, "groups"],
      query: context.route.query,
      columns: () => ["id", "members", "last_modified"],
      objectLink: (group) => [...base, "groups", group.id],
      empty: "No group in this bucket yet.",
    });
  } else if (tab === "attributes") {
    await objectEditor(body, paths.bucket(bid), {
      api,
      label: `bucket ${bid}`,
      onDeleted: () => (context.refreshSidebar(), go([])),
    });
  } else if (tab === "permissions") {
    await permissionsPanel(body, api, "bucket", paths.bucket(bid), { bid });
  } else if (tab === "history") {
    await history(body, context, bid, [...base, "history"]);
  }
}

export async function collectionPage(context, main, bid, cid, tab) {
  const base = ["buckets", bid, "collections", cid];
  const { api } = context;
  const body = frame(main, base, `Collection ${cid}`, tab, [
    [null, "Records"],
    ["attributes", "Attributes"],
    ["permissions", "Permissions"],
  ]);
  if (!tab) {
    const collection = (await api.get(paths.collection(bid, cid))).json.data;
    const list = h("div");
    replace(body, h("p", null, h("a", { href: link([...base, "new-record"]), class: "button" }, "Create record")), list);
    const records = await objectList(list, {
      api,
      path: paths.records(bid, cid),
      route: base,
      query: context.route.query,
      columns: recordColumns(collection),
      objectLink: (record) => [...base, "records", record.id],
      empty: "No record matches.",
    });
    const changed = new Set();
    let timer = null;
    context.onLeave(
      await follow(context, [`/buckets/${bid}/collections/${cid}`], (change) => {
        if (change.resource_name !== "record") return;
        changed.add(change.id);
        clearTimeout(timer);
        timer = setTimeout(() => {
          records.refresh(new Set(changed));
          changed.clear();
        }, 200);
      }),
    );
  } else if (tab === "attributes") {
    await objectEditor(body, paths.collection(bid, cid), {
      api,
      label: `collection ${cid}`,
      onDeleted: () => go(["buckets", bid]),
    });
  } else if (tab === "permissions") {
    await permissionsPanel(body, api, "collection", paths.collection(bid, cid), { bid, cid });
  } else if (tab === "new-record") {
    await newRecord(context, body, bid, cid);
  }
}

async function newRecord(context, body, bid, cid) {
  const { api } = context;
  const collection = (await api.get(paths.collection(bid, cid))).json.data;
  const textarea = h("textarea", { class: "json", rows: 12, "aria-label": "JSON", value: "{}" });
  const error = h("p", { class: "error", role: "alert" });
  const form = createForm(
    context,
    "record",
    (rid) => (rid ? paths.record(bid, cid, rid) : paths.records(bid, cid)),
    (data) => go(["buckets", bid, "collections", cid, "records", data.id]),
    {
      optionalId: true,
      body: () => {
        try {
          error.textContent = "";
          return { data: JSON.parse(textarea.value) };
        } catch (problem) {
          error.textContent = `Not valid JSON: ${problem.message}`;
          throw problem;
        }
      },
    },
  );
  replace(
    body,
    h("h2", null, "New record"),
    collection.schema ? h("details", null, h("summary", null, "The collection's schema"), h("pre", null, pretty(collection.schema))) : null,
    textarea,
    error,
    form,
  );
}

export async function recordPage(context, main, bid, cid, rid, tab) {
  const base = ["buckets", bid, "collections", cid, "records", rid];
  const { api } = context;
  const body = frame(main, base, `Record ${rid}`, tab, [
    [null, "Data"],
    ["permissions", "Permissions"],
  ]);
  if (tab === "permissions") {
    await permissionsPanel(body, api, "record", paths.record(bid, cid, rid), { bid, cid, rid });
    return;
  }
  const collection = (await api.get(paths.collection(bid, cid))).json.data;
  let editor = null;
  const extraFields = context.root.capabilities.attachments
    ? [attachmentField(api, bid, cid, rid, { version: () => editor.version(), reload: context.refresh })]
    : [];
  editor = await objectEditor(body, paths.record(bid, cid, rid), {
    api,
    schema: collection.schema,
    label: `record ${rid}`,
    extraFields,
    onDeleted: () => go(["buckets", bid, "collections", cid]),
  });
  context.onLeave(
    await follow(context, [`/buckets/${bid}/collections/${cid}/records/${rid}`], (change) => {
      if (change.id === rid) editor.changedRemotely(change.action, change.data);
    }),
  );
}

export async function groupPage(context, main, bid, gid, tab) {
  const base = ["buckets", bid, "groups", gid];
  const { api } = context;
  const body = frame(main, base, `Group ${gid}`, tab, [
    [null, "Members"],
    ["permissions", "Permissions"],
  ]);
  if (tab === "permissions") {
    await permissionsPanel(body, api, "group", paths.group(bid, gid), { bid, gid });
    return;
  }
  const members = h("textarea", { id: "members", rows: 6 });
  await objectEditor(body, paths.group(bid, gid), {
    api,
    label: `group ${gid}`,
    onDeleted: () => go(["buckets", bid, "groups"]),
    extraFields: [
      {
        name: "members",
        element: h("div", { class: "field" }, h("label", { for: "members" }, "Members (one principal per line)"), members),
        load: (data) => (members.value = (data.members || []).join("\n")),
        read: () => ({ members: members.value.split(/[\n,]/).map((line) => line.trim()).filter(Boolean) }),
      },
    ],
  });
}

export function failurePage(main, error) {
  replace(main, failure(error));
}
