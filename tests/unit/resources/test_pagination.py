import time

import pytest
from pyramid.httpexceptions import HTTPBadRequest

from kinto_server.resources import pagination
from kinto_server.settings import load

SETTINGS = load({"kinto.userid_hmac_secret": "s"}, environ={})


def test_token_round_trip():
    token = pagination.encode(SETTINGS, {"id": "a", "title": "x"})
    assert pagination.decode(SETTINGS, token) == {"id": "a", "title": "x"}


def test_token_signed_with_another_secret_is_refused():
    other = load({"kinto.userid_hmac_secret": "other"}, environ={})
    with pytest.raises(HTTPBadRequest):
        pagination.decode(SETTINGS, pagination.encode(other, {"id": "a"}))


def test_expired_token_is_refused(monkeypatch):
    token = pagination.encode(SETTINGS, {"id": "a"})
    monkeypatch.setattr(time, "time", lambda: 10**12)
    with pytest.raises(HTTPBadRequest):
        pagination.decode(SETTINGS, token)


@pytest.mark.parametrize("token", ["", "x", "a.b", "é", "e30.0000"])
def test_garbage_tokens_are_refused(token):
    with pytest.raises(HTTPBadRequest):
        pagination.decode(SETTINGS, token)
