"""One request of the corpus, and how it is sent to a server.

A step may save values from its answer (``save={"rid": "data.id"}``, or
``"etag:ETag"`` for a header without its quotes); later steps use them as
``{rid}`` in their path, headers, raw body or body strings. Each server has
its own saved values, so ids a server generated are never mixed up.
"""

import base64
import json
import re
from dataclasses import dataclass, field

PLACEHOLDER = re.compile(r"\{(\w+)\}")
USERS = {"alice": "alice:alice-pw", "bob": "bob:bob-pw", "admin": "admin:admin-pw-1"}


@dataclass
class Step:
    label: str
    method: str
    path: str
    body: object = None
    auth: str = "alice"
    headers: dict = field(default_factory=dict)
    raw: bytes = None
    save: dict = field(default_factory=dict)
    compare_body: bool = True

    def send(self, session, base_url, saved):
        headers = {name: _fill(value, saved) for name, value in self.headers.items()}
        if self.auth:
            credentials = USERS.get(self.auth, self.auth)
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        data = None
        if self.raw is not None:
            data = _fill(self.raw.decode("utf-8", "surrogateescape"), saved).encode("utf-8", "surrogateescape")
        elif self.body is not None:
            data = json.dumps(_fill(self.body, saved)).encode()
            headers.setdefault("Content-Type", "application/json")
        url = base_url + _fill(self.path, saved)
        response = session.request(self.method, url, data=data, headers=headers, allow_redirects=False, timeout=30)
        for name, source in self.save.items():
            value = _extract(response, source)
            if value is not None:
                saved[name] = value
        return response


def _fill(value, saved):
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: str(saved.get(m.group(1), m.group())), value)
    if isinstance(value, dict):
        return {_fill(k, saved): _fill(v, saved) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    return value


def _extract(response, source):
    if source.startswith("etag:"):
        value = response.headers.get(source[len("etag:") :])
        return value.strip('"') if value else None
    if source.startswith("header:"):
        return response.headers.get(source[len("header:") :])
    try:
        value = response.json()
    except ValueError:
        return None
    for part in source.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


@dataclass
class Flow(Step):
    """A step of several requests (a login dance): ``flow(session, base_url,
    saved)`` sends them and returns the answer compared."""

    flow: object = None

    def send(self, session, base_url, saved):
        return self.flow(session, base_url, saved)
