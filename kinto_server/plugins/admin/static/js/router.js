// Locations of the page, in the URL's fragment: #/buckets/b/collections/c?status=done

export function parse(hash) {
  const raw = (hash || "").replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split(/\?(.*)/s);
  const parts = path.split("/").filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return { parts, query: new URLSearchParams(query) };
}

export function link(parts, query) {
  const path = "#/" + parts.map(encodeURIComponent).join("/");
  const text = query ? query.toString() : "";
  return text ? `${path}?${text}` : path;
}

export function go(parts, query) {
  location.hash = link(parts, query);
}
