"""``POST /v1/batch``: several requests in one, each run through the normal
view stack and answered in place, all in one transaction (each sub-request
in a savepoint of its own, so a failing one leaves nothing behind)."""

import posixpath
from urllib.parse import unquote

import colander
from cornice import Service

from kinto_server import logs
from kinto_server.database import ConcurrentWriteConflict
from kinto_server.environ_keys import IDENTITY_KEY, LINEAGE_MEMO, PARENT_PENDING_EVENTS, PENDING_EVENTS, SUBREQUEST
from kinto_server.errors import cornice_errors_to_response, invalid_parameters
from kinto_server.request import KintoRequest
from kinto_server.resources.target import LineageMemo
from kinto_server.views.rendering import dumps, json_response
from kinto_server.views.schemas import parse_json_body

METHODS = ("GET", "HEAD", "DELETE", "TRACE", "POST", "PUT", "PATCH")
PREFIX = "/v1"
# Sub-requests whose success leaves every bucket, collection, group and ACE
# but those of records as they were (see LineageMemo).
RECORD_ROUTES = ("record-plural", "record-object")
# Request headers that describe a body: a sub-request's come from its own.
BODY_HEADERS = ("content-length", "transfer-encoding")

batch = Service(name="batch", path="/batch", description="Batch operations", error_handler=cornice_errors_to_response)
batch.writes_checked_inside = True  # Read-only mode refuses its write sub-requests, not the batch.


class _Headers(colander.SchemaNode):
    schema_type = colander.Mapping

    def __init__(self, **kwargs):
        super().__init__(colander.Mapping(unknown="preserve"), **kwargs)

    def validator(self, node, value):
        if not all(isinstance(v, str) for v in value.values()):
            raise colander.Invalid(node, f"{value} contains non string value")


class SubRequestSchema(colander.MappingSchema):
    path = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^/"), missing=colander.required)
    method = colander.SchemaNode(colander.String(), validator=colander.OneOf(METHODS), missing=colander.drop)
    headers = _Headers(missing=colander.drop)
    body = colander.SchemaNode(colander.Mapping(unknown="preserve"), missing=colander.drop)

    @staticmethod
    def schema_type():
        return colander.Mapping(unknown="raise")


class SubRequestsSchema(colander.SequenceSchema):
    request = SubRequestSchema()


class DefaultsSchema(SubRequestSchema):
    """What every sub-request inherits: checked as one, but with no path required."""

    path = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^/"), missing=colander.drop)


class BatchSchema(colander.MappingSchema):
    defaults = DefaultsSchema(missing=colander.drop)
    requests = SubRequestsSchema()

    @staticmethod
    def schema_type():
        return colander.Mapping(unknown="raise")


_schema = BatchSchema()


def merge_defaults(defaults, subrequest):
    """``subrequest`` completed with ``defaults``, recursively (its own values win)."""
    merged = dict(defaults)
    for key, value in subrequest.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = merge_defaults(merged[key], value)
        merged[key] = value
    return merged


RECURSION_MESSAGE = "Recursive call on /batch endpoint is forbidden."


def _normalized(path):
    """The path as the router will see it: unescaped, without empty, ``.``
    and ``..`` segments, lower-cased (so ``/%62atch`` and ``/v1//BATCH/`` are
    recognised as ``/batch``)."""
    path = unquote(path.split("?", 1)[0], errors="replace")
    return posixpath.normpath("/" + path.lstrip("/")).lower()


def _check_limits(request, requests):
    limit = request.registry.settings["batch_max_requests"]
    if limit and len(requests) > limit:
        request.errors.add("body", "requests", f"Number of requests is limited to {limit}")
        return
    for sub in requests:
        if _normalized(sub["path"]) in ("/batch", PREFIX + "/batch"):
            request.errors.add("body", "requests", RECURSION_MESSAGE)
            return


def validate_batch(request, **kwargs):
    body = parse_json_body(request)
    if request.errors:
        return
    defaults = (body or {}).get("defaults") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(defaults, dict) and isinstance(body.get("requests"), list):
        body = {
            **body,
            "requests": [merge_defaults(defaults, s) if isinstance(s, dict) else s for s in body["requests"]],
        }
    try:
        validated = _schema.deserialize(body if body is not None else {})
    except colander.Invalid as invalid:
        for name, description in invalid.asdict().items():
            request.errors.add("body", name, description)
        return
    _check_limits(request, validated["requests"])
    request.validated["body"] = validated


validate_batch.schema = _schema  # Read by the OpenAPI description.


def _sub_headers(request, sub):
    """The batch's headers overridden by the sub-request's, names compared
    without case (``authorization`` replaces ``Authorization``); the body's
    own headers (length, encoding) come from the sub-request's body alone."""
    headers = {name.title(): v for name, v in request.headers.items() if name.lower() not in BODY_HEADERS}
    headers.pop("Content-Type", None)  # The batch's, not its sub-requests'.
    for name, value in sub.get("headers", {}).items():
        if name.lower() not in BODY_HEADERS:
            headers[name.title()] = value
    if "body" in sub:
        headers.setdefault("Content-Type", "application/json")
    return headers


def build_subrequest(request, sub):
    path = sub["path"]
    if not path.startswith(PREFIX + "/"):
        path = PREFIX + path
    headers = _sub_headers(request, sub)
    subrequest = KintoRequest.blank(path, base_url=request.application_url, headers=headers)
    subrequest.method = sub.get("method", "GET")
    if "body" in sub:
        subrequest.body = dumps(sub["body"])
    subrequest.environ[SUBREQUEST] = True
    subrequest.environ[PARENT_PENDING_EVENTS] = request.environ.setdefault(PENDING_EVENTS, [])
    if headers.get("Authorization") == request.headers.get("Authorization"):
        # Same credentials: reuse the identity and principals already computed.
        for name in (IDENTITY_KEY, "principals"):
            if name in request.__dict__:
                subrequest.__dict__[name] = request.__dict__[name]
    return subrequest


def _answer(subrequest, response):
    body = None
    if response.body and response.content_type == "application/json":
        body = response.json
    try:
        path = subrequest.path
    except UnicodeDecodeError:  # Answered 400; echo the path as it was sent.
        path = subrequest.environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
    return {"path": path, "status": response.status_code, "headers": dict(response.headers), "body": body}


@batch.post(validators=(validate_batch,))
def post_batch(request):
    if request.environ.get(SUBREQUEST):
        # However its path was written (the check above reads it as sent).
        raise invalid_parameters("body", "requests", RECURSION_MESSAGE)
    # Computed once here, and reused by the sub-requests with the same credentials.
    request.__dict__.setdefault("principals", request.principals)
    responses = []
    subs = request.validated["body"]["requests"]
    logs.note_batch_size(request.environ, len(subs))
    memo = LineageMemo()
    for sub in subs:
        subrequest = build_subrequest(request, sub)
        subrequest.environ[LINEAGE_MEMO] = memo
        logs.log_subrequest(request.environ, subrequest)
        response = request.invoke_subrequest(subrequest, use_tweens=True)
        route = getattr(subrequest, "matched_route", None)
        memo.settle(response.status_code < 400 and route is not None and route.name in RECORD_ROUTES)
        if getattr(response, "retry_request", False):
            raise ConcurrentWriteConflict("a sub-request conflicted with a concurrent transaction")
        responses.append(_answer(subrequest, response))
    return json_response({"responses": responses})


def includeme(config):
    config.add_cornice_service(batch)
