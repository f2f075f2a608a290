"""Differences we keep on purpose; each is listed in the README under
"Differences from Kinto" with its reason. A rule matches a step label and
the place of the difference (both regular expressions, searched)."""

import re

PAST_LAST_MODIFIED = "a last_modified older than the collection is bumped, so that _since never misses it"
ANONYMOUS_WRITE = "an object created anonymously gets no write ACE for system.Everyone"

CHANGES_READABLE = "the changes overview lists only the collections the caller may read"

KNOWN = [
    (r"^changes overview anonymous$", r"^body\.data|^header etag(-is)?$", CHANGES_READABLE),
    (r"^changes overview head$", r"^header (total-|access-control-expose-headers)", "HEAD counts the entries"),
    (r"^changes overview POST$", r"^header (allow|access-control-expose-headers)$", "the 405 of a computed list"),
    (r"^changeset", r"^header last-modified$", "sent as kinto-changes' code means to; Kinto drops it"),
    (r"^changeset of monitor$", r"^body\.timestamp$", CHANGES_READABLE),
    (r"^changeset of monitor$", r"^body\.changes\[\d\]\.collection$", "kinto-changes' order depends on its backend"),
    (r"^changes overview", r"^header etag-is$", "never-written collections get their timestamps when first read"),
    (r".", r"^body\.project_version$", "we report our own version"),
    (r".", r"^body\.config\.(path|hash|modified)$", "config describes the ini this server was started with"),
    (r"^version$", r".", "no version.json is a 404; Kinto answers 500"),
    (r"^contribute$", r".", "contribute.json describes this project"),
    (r"invalid JSON", r"^body\.(message|details\[0\]\.description)$", "the JSON parser's own wording"),
    (r"^list buckets _limit huge$", r"description|message", "the value is echoed as sent; Kinto rounds it"),
    (
        r"^openid .* (expired|garbage) token$",
        r"^header www-authenticate$",
        'a refused Bearer token is named: error="invalid_token" (RFC 6750)',
    ),
    (r".", r"^header www-authenticate$", "one challenge; Kinto repeats it once per policy"),
    (r"^openid provider down$", r".", "an identity provider that cannot be reached is a 503 (Kinto: 500)"),
    (
        r"^list records (default sort|sort unknown field|_limit zero|_since.*|_before|_to|304)$",
        r"^body\.data|^header etag-is$",
        PAST_LAST_MODIFIED,
    ),
    (r"^delete records", r"^body\.data\[\d\]\.id$", PAST_LAST_MODIFIED),
    (r"^(delete records|history delete)", r"^header etag-is$", "tombstone timestamps assigned in another order"),
    (
        r"^(list records filter min not a number|nested filter min)$",
        r"^body\.data|^header etag-is$",
        "comparison filters match values of the filter's JSON type only",
    ),
    (r"^filter like ", r".", "like_ has one wildcard (*) on every backend"),
    (r"_fields", r"^body\.data\[\d+\]\.deleted$", "tombstones keep deleted: true under _fields"),
    (r"^anonymous creates record$", r"^body\.permissions\.write$", ANONYMOUS_WRITE),
    (r"^(permissions|carol permissions|history bob|history anonymous)", r"^body\.data|^header total-", ANONYMOUS_WRITE),
    (
        r"^default bucket (anonymous|id invalid)$",
        r"expose-headers",
        "errors of /buckets/default expose as its endpoint",
    ),
    (
        r"^batch",
        r"^body\.responses\[\d+\]\.headers\.(Content-Security-Policy|X-Content-Type-Options|Access-Control-Expose-Headers|Alert)$",
        "every sub-response carries the headers of the same request sent alone",
    ),
    (r"holds /batch$", r".", "only a request to /batch itself is a nested batch; Kinto refuses any path holding it"),
    (r"^(hs )?history (head|count)", r"total-|expose-headers", "HEAD on history counts its entries (Total-Objects)"),
    (
        r"^hs history trimmed",
        r"^body\.data|^header etag-is$",
        "trimmed history entries leave no tombstones, as Kinto on PostgreSQL (its memory backend leaves them)",
    ),
    (r".", r"password", "account passwords are never echoed"),
    (r"^ud plural$", r"^header (allow|access-control-expose-headers)$", "the 405 of DELETE /__user_data__ is a view's"),
    (r"^ud group after$", r"^body\.data\.members$", "a deleted principal leaves the members of its groups too"),
    (r"^ud nobody$", r".", "a principal with no data gets the 200; Kinto on PostgreSQL answers 503"),
    (r"^ops ", r"^header x-content-type-options$", "every answer carries nosniff (Kinto's 410 does not)"),
    (
        r"^ops (list buckets|head buckets|permissions|with Origin)$",
        r".",
        "a read-only server lists a plural endpoint never written to (Kinto on PostgreSQL: 503)",
    ),
    (r"^ops batch$", r"^status$|^body\.", "a read-only server runs a batch's reads and refuses its writes one by one"),
    (r"lists accounts$|^admin accounts", r"^header etag-is$", "the accounts list's ETag is the newest account"),
    (r"^accounts anonymous$", r".", "an anonymous list of accounts is a plain 401 (errno 104)"),
]


def explain(step, where):
    for label, place, reason in KNOWN:
        if re.search(label, step.label) and re.search(place, where):
            return reason
    return None
