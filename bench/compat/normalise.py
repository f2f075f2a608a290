"""Making two servers' answers comparable, then listing how they differ.

What may legitimately differ between two runs of the same request is
replaced by placeholders: the server's base URL, HTTP dates, pagination
tokens, epoch millisecond timestamps (``<t>``), and generated UUIDs
(numbered in order of first appearance within one answer). What ties a
timestamp to another is still compared: the body fields equal to the ETag
are listed under a made-up ``etag-is`` header.
"""

import json
import re
from urllib.parse import quote

IGNORED_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding", "via"}
# Comma-separated lists whose order carries no meaning.
SET_HEADERS = {
    "access-control-expose-headers",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "allow",
}
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00)?")
TOKEN = re.compile(r"_token=[^&\"\s]+")
TIMESTAMP = re.compile(r"(?<![\d.])1[5-9]\d{11}(?![\d.])")
# Where an ETag may come from: an object's own timestamp (not a nested one,
# e.g. a history entry's target, which Kinto and we time differently).
OBJECT_TIMESTAMP = re.compile(r"body\.data(\[\d+\])?\.last_modified$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# OpenID login: the random state, and the tokens a callback receives (base64).
OAUTH_STATE = re.compile(r"state=[0-9a-f]{16,}")
ENCODED_TOKENS = re.compile(r"[A-Za-z0-9%+/=]{200,}")


# Lists kept in sets by Kinto, whose order means nothing; ``read`` and
# ``write`` are under ``permissions``, ``permissions`` of /v1/permissions.
UNORDERED_KEYS = {"read", "write", "collection:create", "group:create", "record:create", "permissions", "principals"}


def _set_header(value):
    return ", ".join(sorted(part.strip() for part in value.split(",") if part.strip()))


class Placeholders:
    """Numbers each distinct timestamp and UUID of one answer: <t1>, <id1>..."""

    def __init__(self, base_url, saved=None):
        self.base_url = base_url
        self.seen = {}
        # Values a step saved (generated ids...) are named after their key.
        self.saved = {v: k for k, v in (saved or {}).items() if isinstance(v, str) and len(v) >= 6}

    def _number(self, kind, value):
        key = (kind, value)
        if key not in self.seen:
            self.seen[key] = f"<{kind}{sum(1 for k in self.seen if k[0] == kind) + 1}>"
        return self.seen[key]

    def text(self, value):
        value = value.replace(self.base_url, "<server>")
        value = value.replace(quote(self.base_url, safe=""), "<server>")
        value = OAUTH_STATE.sub("state=<state>", value)
        for saved, name in self.saved.items():
            value = value.replace(saved, f"<{name}>")
        value = HTTP_DATE.sub("<date>", value)
        value = ISO_DATE.sub("<iso-date>", value)
        value = TOKEN.sub("_token=<token>", value)
        value = ENCODED_TOKENS.sub("<tokens>", value)  # after _token=, which is one too
        value = TIMESTAMP.sub("<t>", value)
        return UUID.sub(lambda m: self._number("id", m.group()), value)

    def value(self, value, key=None):
        if isinstance(value, dict):
            return {self.text(k): self.value(v, k) for k, v in sorted(value.items())}
        if isinstance(value, list):
            values = [self.value(v) for v in value]
            # Kinto keeps principals and permissions in sets: no order.
            return sorted(values, key=str) if key in UNORDERED_KEYS else values
        if isinstance(key, str) and key.lower() in SET_HEADERS and isinstance(value, str):
            return _set_header(value)
        if isinstance(key, str) and key.lower() == "content-length":
            return "<n>"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and TIMESTAMP.fullmatch(str(value)):
            return "<t>"
        return value


def normalise(response, base_url, compare_body=True, saved=None):
    """(status, headers, body) of a ``requests`` response, placeholders in."""
    marks = Placeholders(base_url, saved)
    headers = {}
    for name, value in sorted(response.headers.items(), key=lambda item: item[0].lower()):
        name = name.lower()
        if name in IGNORED_HEADERS:
            continue
        if name == "content-length":
            value = "0" if value == "0" else "<n>"
        elif name in SET_HEADERS:
            value = _set_header(value)
        headers[name] = marks.text(value)
    body = None
    if compare_body and response.content:
        try:
            parsed = json.loads(response.content)
        except ValueError:
            body = marks.text(response.text[:2000])
        else:
            body = marks.value(parsed)
            etag = response.headers.get("ETag", "").strip('"')
            if etag.isdigit():
                paths = [p for p in _paths_equal_to(parsed, int(etag), "body") if OBJECT_TIMESTAMP.match(p)]
                headers["etag-is"] = ", ".join(paths) or "-"
    return response.status_code, headers, body


def _paths_equal_to(value, wanted, where):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _paths_equal_to(value[key], wanted, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths_equal_to(item, wanted, f"{where}[{index}]")
    elif value == wanted and not isinstance(value, bool):
        yield where


def differences(kinto, ours):
    """Lines ``where: kinto=… ours=…`` for two normalised answers."""
    lines = []
    if kinto[0] != ours[0]:
        lines.append(("status", kinto[0], ours[0]))
    for name in sorted(set(kinto[1]) | set(ours[1])):
        if kinto[1].get(name) != ours[1].get(name):
            lines.append((f"header {name}", kinto[1].get(name), ours[1].get(name)))
    _diff_values("body", kinto[2], ours[2], lines)
    return lines


MISSING = "<absent>"


def _diff_values(where, left, right, lines):
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            _diff_values(f"{where}.{key}", left.get(key, MISSING), right.get(key, MISSING), lines)
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            _diff_values(f"{where}[{index}]", a, b, lines)
    elif left != right:
        lines.append((where, left, right))
