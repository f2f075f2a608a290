"""Schema-driven fuzzing: schemathesis reads our OpenAPI description
(``GET /v1/__api__``) and generates valid and invalid requests for every
operation, on both backends. Every answer is below 500, every error is a
Kinto JSON error whose ``code`` is the status, and a rejected request leaves
the stored data as it was.

``KINTO_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode
(positive and negative); the counts are printed at the end of the run."""

import hashlib
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from webtest import TestApp

from kinto_server import main
from tests.backends import settings_for
from tests.robustness.conftest import FUZZ_STATS
from tests.support import ALICE, BASE_SETTINGS, BOB

EXAMPLES = int(os.environ.get("KINTO_SCHEMATHESIS_EXAMPLES", "10"))
PLUGINS = " ".join(
    f"kinto_server.plugins.{name}" for name in ("default_bucket", "accounts", "history", "flush", "stream")
)
# Known objects, so that part of the generated requests reach real ones.
KNOWN = {"bucket_id": "b", "collection_id": "c", "record_id": "r1", "group_id": "g", "id": "alice"}


def build_app(backend):
    app = main(
        {},
        **{
            **BASE_SETTINGS,
            **settings_for(backend),
            "kinto.includes": PLUGINS,
            "kinto.multiauth.policies": "account basicauth",
            "kinto.account_create_principals": "system.Everyone",
            "kinto.experimental_permissions_endpoint": "true",
            "kinto.experimental_collection_schema_validation": "true",
            "kinto.flush_endpoint_enabled": "false",
        },
    )
    test_app = TestApp(app)
    test_app.put_json("/v1/buckets/b", {"permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    test_app.put_json("/v1/buckets/b/collections/c", {}, headers=ALICE)
    test_app.put_json("/v1/buckets/b/groups/g", {"data": {"members": ["x"]}}, headers=ALICE)
    test_app.put_json("/v1/buckets/b/collections/c/records/r1", {"data": {"n": 1}}, headers=ALICE)
    return app, test_app


def operations():
    """(operation, mode) for every operation of the description: valid
    requests, and invalid ones where there is something to get wrong
    (parameters or a body)."""
    app, _ = build_app("memory")
    schema = schemathesis.openapi.from_wsgi("/v1/__api__", app)
    cases = []
    for op in (result.ok() for result in schema.get_all_operations()):
        name = f"{op.method.upper()} {op.path}"
        cases.append((name, GenerationMode.POSITIVE))
        constrained_path = any(_constrained(p.definition.get("schema", {})) for p in op.path_parameters)
        if constrained_path or any(len(group) for group in (op.query, op.headers, op.body)):
            cases.append((name, GenerationMode.NEGATIVE))
    return cases


def _constrained(schema):
    """Whether a path parameter can be sent wrong (any string is a valid
    principal of ``/__user_data__/{principal}``: nothing to get wrong)."""
    return schema.get("type") != "string" or any(key in schema for key in ("pattern", "enum", "maxLength", "format"))


def _pick(value, salt):
    """A stable coin toss on the generated value (reproducible shrinking)."""
    return hashlib.sha256(f"{salt}:{value!r}".encode()).digest()[0] % 3


def stored_state(test_app):
    records = test_app.get("/v1/buckets/b/collections/c/records?_since=0", headers=ALICE, expect_errors=True)
    buckets = test_app.get("/v1/buckets", headers=ALICE, expect_errors=True)
    group = test_app.get("/v1/buckets/b/groups/g", headers=ALICE, expect_errors=True)
    return records.body, buckets.body, group.body


def check(case, test_app):
    for name, value in list((case.path_parameters or {}).items()):
        if name in KNOWN and _pick(value, name) == 0:
            case.path_parameters[name] = KNOWN[name]
    users = (ALICE, BOB, {})
    headers = dict(users[_pick(case.path_parameters, "user")])
    before = stored_state(test_app)
    response = case.call(headers=headers)
    FUZZ_STATS["schemathesis requests"] += 1
    FUZZ_STATS["schemathesis 5xx"] += response.status_code >= 500
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400 and case.method.upper() != "HEAD":
        error = response.json()
        assert error["code"] == response.status_code
        assert isinstance(error["errno"], int)
        assert isinstance(error["error"], str)
        # Kinto's 404 of a missing object names it in details, with no message.
        assert isinstance(error.get("message"), str) or (response.status_code == 404 and error["details"]["id"])
    if response.status_code >= 400 or case.method.upper() in ("GET", "HEAD"):
        assert stored_state(test_app) == before


@pytest.mark.parametrize(("operation", "mode"), operations(), ids=lambda v: getattr(v, "value", v))
def test_generated_requests_get_kinto_answers_and_change_nothing_when_rejected(backend, operation, mode):
    app, test_app = build_app(backend)
    schema = schemathesis.openapi.from_wsgi("/v1/__api__", app)
    method, path = operation.split(" ", 1)
    api_operation = schema[path][method]

    @given(case=api_operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        check(case, test_app)

    run()
