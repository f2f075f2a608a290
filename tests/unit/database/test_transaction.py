"""The request transaction tween, with fake database clients."""

from types import SimpleNamespace

import pytest
from pyramid.response import Response

from kinto_server.database import ConcurrentWriteConflict
from kinto_server.database.transaction import MAX_ATTEMPTS, transaction_tween_factory
from kinto_server.errors import BackendUnavailable


class FakeClient:
    def __init__(self, fail_on_commit=()):
        self.started, self.finished = [], []
        self.fail_on_commit = list(fail_on_commit)

    def start_request(self, readonly):
        self.started.append(readonly)

    def finish_request(self, commit):
        self.finished.append(commit)
        if commit and self.fail_on_commit:
            raise self.fail_on_commit.pop(0)


def make(handler, client):
    registry = SimpleNamespace(database_clients=[client], settings={"retry_after_seconds": 3})
    return transaction_tween_factory(handler, registry)


def request(method="POST"):
    settings = {"retry_after_seconds": 3}
    return SimpleNamespace(method=method, path="/v1/x", environ={}, registry=SimpleNamespace(settings=settings))


def test_success_commits_and_errors_roll_back():
    client = FakeClient()
    tween = make(lambda r: Response(status=201), client)
    assert tween(request()).status_code == 201
    tween = make(lambda r: Response(status=412), client)
    assert tween(request()).status_code == 412
    assert client.finished == [True, False]


def test_reads_use_a_read_transaction():
    client = FakeClient()
    make(lambda r: Response(), client)(request("GET"))
    assert client.started == [True]


def test_exception_rolls_back_and_propagates():
    client = FakeClient()

    def explode(r):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        make(explode, client)(request())
    assert client.finished == [False]


def test_conflict_response_is_retried_until_success():
    client = FakeClient()
    calls = []

    def handler(r):
        calls.append(1)
        response = Response(status=409 if len(calls) < 3 else 200)
        response.retry_request = len(calls) < 3
        return response

    assert make(handler, client)(request()).status_code == 200
    assert client.finished == [False, False, True]


def test_conflict_on_commit_is_retried():
    client = FakeClient(fail_on_commit=[ConcurrentWriteConflict("deadlock")])
    assert make(lambda r: Response(status=200), client)(request()).status_code == 200
    assert client.finished == [True, True]


def test_conflicts_give_409_after_the_last_attempt():
    client = FakeClient(fail_on_commit=[ConcurrentWriteConflict("x")] * MAX_ATTEMPTS)
    response = make(lambda r: Response(status=200), client)(request())
    assert response.status_code == 409
    assert response.json["errno"] == 122
    assert response.headers["Retry-After"] == "3"


def test_commit_failure_is_503_never_success():
    client = FakeClient(fail_on_commit=[BackendUnavailable("gone")])
    response = make(lambda r: Response(status=201), client)(request())
    assert response.status_code == 503
    assert response.json["errno"] == 201
    assert response.headers["Retry-After"] == "3"


def test_batch_subrequests_are_not_retried_on_their_own():
    client = FakeClient()

    def conflict(r):
        response = Response(status=409)
        response.retry_request = True
        return response

    sub = request()
    sub.environ["kinto_server.subrequest"] = True
    response = make(conflict, client)(sub)
    assert response.retry_request is True
    assert client.finished == [False]
