// A list of objects paged, sorted and filtered by the server: the state is
// the page's location (#...?status=done&_sort=-n&_token=...), so that
// Back, reload and bookmarks keep it.

import { ApiError } from "./api.js";
import { h, replace, timeText } from "./dom.js";
import { link } from "./router.js";

export const PAGE_SIZE = 50;

// Kinto's filter operators, as the querystring spells them.
export const OPERATORS = [
  ["", "equals"],
  ["not_", "is not"],
  ["in_", "is one of (a,b)"],
  ["exclude_", "is none of (a,b)"],
  ["min_", "≥"],
  ["max_", "≤"],
  ["gt_", ">"],
  ["lt_", "<"],
  ["like_", "is like (* wildcards)"],
  ["has_", "has the field (true/false)"],
  ["contains_", "contains (JSON)"],
  ["contains_any_", "contains any of (JSON)"],
];

const RESERVED = new Set(["_sort", "_token", "_limit", "_fields", "_since", "_before"]);

function filtersOf(query) {
  return [...query.entries()].filter(([name]) => !RESERVED.has(name));
}

function cell(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * A list in `container`: `options` {api, path, route (parts), query, columns,
 * objectLink(object) → parts, empty}. Returns {refresh()}.
 */
export async function objectList(container, options) {
  const { api, path, route, query } = options;
  const sort = query.get("_sort") || "-last_modified";
  const table = h("div", { class: "list-table" });
  const footer = h("div", { class: "pager" });
  const filterBar = filterEditor(route, query);
  const countText = h("span", { class: "muted count" });
  replace(container, filterBar, countText, table, footer);

  async function load(highlight) {
    const params = new URLSearchParams();
    for (const [name, value] of filtersOf(query)) params.append(name, value);
    params.set("_sort", sort);
    params.set("_limit", String(PAGE_SIZE));
    if (query.get("_token")) params.set("_token", query.get("_token"));
    let page;
    try {
      page = await api.page(path, params);
    } catch (failure) {
      replace(table, h("p", { class: "error", role: "alert" }, failure instanceof ApiError ? failure.describe() : String(failure)));
      return;
    }
    const columns = options.columns(page.items);
    replace(table, renderTable(page.items, columns, route, query, sort, options, highlight));
    replace(
      footer,
      query.get("_token") ? h("a", { href: link(route, withoutToken(query)) }, "First page") : null,
      page.nextPage ? h("a", { href: nextLink(route, query, page.nextPage), class: "next" }, "Next page") : null,
    );
    const countParams = new URLSearchParams(filtersOf(query));
    api.total(path, countParams).then(
      (total) => (countText.textContent = total === null ? "" : `${total} in all${filtersOf(query).length ? " matching" : ""}`),
      () => (countText.textContent = ""),
    );
    return page.items;
  }

  await load();
  return { refresh: (highlight) => load(highlight) };
}

function withoutToken(query) {
  const next = new URLSearchParams(query);
  next.delete("_token");
  return next;
}

function nextLink(route, query, nextPage) {
  const token = new URL(nextPage, location.href).searchParams.get("_token");
  const next = withoutToken(query);
  if (token) next.set("_token", token);
  return link(route, next);
}

function renderTable(items, columns, route, query, sort, options, highlight) {
  if (!items.length) return h("p", { class: "muted empty" }, options.empty || "Nothing here yet.");
  const header = columns.map((column) => {
    const current = sort === column ? "ascending" : sort === `-${column}` ? "descending" : null;
    const next = new URLSearchParams(withoutToken(query));
    next.set("_sort", current === "ascending" ? `-${column}` : column);
    return h(
      "th",
      { "aria-sort": current || "none" },
      h("a", { href: link(route, next), title: `Sort by ${column}` }, column, current === "ascending" ? " ▲" : current === "descending" ? " ▼" : ""),
    );
  });
  return h(
    "table",
    { class: "objects" },
    h("thead", null, h("tr", null, header)),
    h(
      "tbody",
      null,
      items.map((object) =>
        h(
          "tr",
          { "data-id": object.id, class: highlight && highlight.has(object.id) ? "changed" : null },
          columns.map((column, index) => {
            const value = column === "last_modified" ? timeText(object.last_modified) : cell(object[column]);
            return h("td", null, index === 0 ? h("a", { href: link(options.objectLink(object)) }, value) : value);
          }),
        ),
      ),
    ),
  );
}

function filterEditor(route, query) {
  const field = h("input", { "aria-label": "Field", placeholder: "field (e.g. status)", class: "filter-field" });
  const operator = h(
    "select",
    { "aria-label": "Operator", class: "filter-operator" },
    OPERATORS.map(([prefix, label]) => h("option", { value: prefix }, label)),
  );
  const value = h("input", { "aria-label": "Value", placeholder: "value", class: "filter-value" });
  function add(event) {
    event.preventDefault();
    if (!field.value.trim()) return;
    const next = withoutToken(query);
    next.append(operator.value + field.value.trim(), value.value);
    location.hash = link(route, next);
  }
  const chips = filtersOf(query).map(([name, text]) => {
    const next = withoutToken(query);
    const rest = [...next.entries()].filter(([key, val]) => !(key === name && val === text));
    return h(
      "span",
      { class: "chip" },
      `${name} = ${text} `,
      h("a", { href: link(route, new URLSearchParams(rest)), "aria-label": `Remove filter ${name}`, title: "Remove" }, "×"),
    );
  });
  return h(
    "form",
    { class: "filters", onsubmit: add },
    field,
    operator,
    value,
    h("button", { type: "submit", class: "secondary" }, "Filter"),
    chips,
  );
}

/** Columns for records: the collection's displayFields (kinto-admin's setting), else the first keys seen. */
export function recordColumns(collection) {
  return (items) => {
    const declared = Array.isArray(collection.displayFields) ? collection.displayFields : null;
    if (declared && declared.length) return ["id", ...declared.filter((name) => name !== "id"), "last_modified"];
    const seen = [];
    for (const item of items) {
      for (const key of Object.keys(item)) {
        if (!["id", "last_modified", "schema"].includes(key) && !seen.includes(key)) seen.push(key);
      }
    }
    return ["id", ...seen.slice(0, 4), "last_modified"];
  };
}
