// The server's REST API, as the page uses it: JSON in and out, the caller's
// Authorization header, preconditions, and Kinto's error bodies as errors.

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && (body.message || body.error)) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body || {};
    this.errno = this.body.errno;
  }

  /** The message and, for a 400, which field is wrong. */
  describe() {
    const details = (this.body.details || [])
      .map((detail) => [detail.location, detail.name, detail.description].filter(Boolean).join(" "))
      .filter(Boolean);
    const message = this.status === 403 ? `Not allowed: ${this.message}` : this.message;
    return details.length ? `${message} (${details.join("; ")})` : message;
  }
}

const quote = (etag) => (etag === "*" ? "*" : `"${etag}"`);

export class Api {
  constructor(base, authorization) {
    this.base = base; // ends with /v1/
    this.authorization = authorization;
    this.onUnauthorized = null;
  }

  url(path) {
    if (/^https?:/.test(path)) return path;
    return this.base + path.replace(/^\//, "");
  }

  async request(method, path, { body, ifMatch, ifNoneMatch } = {}) {
    const headers = { Accept: "application/json" };
    if (this.authorization) headers.Authorization = this.authorization;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (ifMatch !== undefined) headers["If-Match"] = quote(ifMatch);
    if (ifNoneMatch !== undefined) headers["If-None-Match"] = quote(ifNoneMatch);
    const response = await fetch(this.url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const text = method === "HEAD" ? "" : await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      if (response.status === 401 && this.authorization && this.onUnauthorized) this.onUnauthorized();
      throw new ApiError(response.status, json);
    }
    const etag = response.headers.get("ETag");
    return {
      json,
      headers: response.headers,
      etag: etag ? etag.replace(/"/g, "") : null,
      nextPage: response.headers.get("Next-Page"),
    };
  }

  /** A multipart form (an attachment's upload): the browser writes its Content-Type. */
  async upload(path, form, { ifMatch } = {}) {
    const headers = { Accept: "application/json" };
    if (this.authorization) headers.Authorization = this.authorization;
    if (ifMatch !== undefined) headers["If-Match"] = quote(ifMatch);
    const response = await fetch(this.url(path), { method: "POST", headers, body: form, credentials: "omit" });
    const json = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  }

  /** A file the server sends (an attachment), as a Blob. */
  async blob(path) {
    const headers = this.authorization ? { Authorization: this.authorization } : {};
    const response = await fetch(this.url(path), { headers, credentials: "omit", cache: "no-store" });
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    return response.blob();
  }

  get(path) {
    return this.request("GET", path);
  }

  /** The objects of a list page: `{items, nextPage}`. */
  async page(path, query) {
    const separator = path.includes("?") ? "&" : "?";
    const suffix = query && query.toString() ? separator + query.toString() : "";
    const { json, nextPage } = await this.request("GET", path + suffix);
    return { items: json.data, nextPage };
  }

  async total(path, query) {
    const suffix = query && query.toString() ? `?${query}` : "";
    const { headers } = await this.request("HEAD", path + suffix);
    const total = headers.get("Total-Objects") || headers.get("Total-Records");
    return total === null ? null : Number(total);
  }
}

const part = encodeURIComponent;

/** API paths of the objects, from their ids. */
export const paths = {
  buckets: () => "/buckets",
  bucket: (bid) => `/buckets/${part(bid)}`,
  collections: (bid) => `/buckets/${part(bid)}/collections`,
  collection: (bid, cid) => `/buckets/${part(bid)}/collections/${part(cid)}`,
  groups: (bid) => `/buckets/${part(bid)}/groups`,
  group: (bid, gid) => `/buckets/${part(bid)}/groups/${part(gid)}`,
  records: (bid, cid) => `/buckets/${part(bid)}/collections/${part(cid)}/records`,
  record: (bid, cid, rid) => `/buckets/${part(bid)}/collections/${part(cid)}/records/${part(rid)}`,
  attachment: (bid, cid, rid) => `/buckets/${part(bid)}/collections/${part(cid)}/records/${part(rid)}/attachment`,
  history: (bid) => `/buckets/${part(bid)}/history`,
};
