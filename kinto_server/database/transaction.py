"""One database transaction per request: the tween that commits it when the
response is a success and rolls it back otherwise, and tries the whole
request again when PostgreSQL aborted it for a concurrent transaction."""

import contextlib
import logging

from kinto_server.database import ConcurrentWriteConflict
from kinto_server.environ_keys import PENDING_EVENTS, SUBREQUEST
from kinto_server.errors import ERRORS, BackendUnavailable, backend_unavailable_view, json_error

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def _finish(clients, commit):
    error = None
    for client in clients:
        try:
            client.finish_request(commit and error is None)
        except Exception as exc:  # Keep closing the others; report the first.
            error = error or exc
    if error is not None:
        raise error


def _reset_for_retry(request):
    for name in ("validated", "errors"):
        request.__dict__.pop(name, None)
    request.environ.pop(PENDING_EVENTS, None)  # Events of the abandoned attempt.


def _start(clients, readonly):
    """Start every client's transaction; if one cannot start, end those
    already started (a write turn left taken would block every writer)."""
    started = []
    try:
        for client in clients:
            client.start_request(readonly)
            started.append(client)
    except BaseException:
        with contextlib.suppress(Exception):  # The start's own error is the one to report.
            _finish(started, commit=False)
        raise


def transaction_tween_factory(handler, registry):
    clients = list(registry.database_clients)
    if not clients:
        return handler

    def transaction_tween(request):
        readonly = request.method in READ_METHODS
        # A batch sub-request runs once, in a savepoint; on a conflict the
        # batch as a whole is tried again.
        attempts = 1 if request.environ.get(SUBREQUEST) else MAX_ATTEMPTS
        for attempt in range(1, attempts + 1):
            _start(clients, readonly)
            try:
                response = handler(request)
            except BaseException:
                _finish(clients, commit=False)
                raise
            if getattr(response, "retry_request", False) and attempt < attempts:
                _finish(clients, commit=False)
                logger.info("Concurrent transaction conflict on %s %s, retrying", request.method, request.path)
                _reset_for_retry(request)
                continue
            try:
                _finish(clients, commit=response.status_code < 400)
            except BackendUnavailable as error:
                # The write did not commit: never report it as a success.
                return backend_unavailable_view(error, request)
            except ConcurrentWriteConflict:
                if attempt < attempts:
                    _reset_for_retry(request)
                    continue
                return conflict_view(None, request)
            return response
        return response

    return transaction_tween


def conflict_view(exc, request):
    """Still conflicting after every attempt: ask the client to retry (409)."""
    retry_after = str(request.registry.settings["retry_after_seconds"])
    response = json_error(
        409,
        ERRORS.CONSTRAINT_VIOLATED,
        "Conflict with a concurrent request, please retry.",
        headers={"Retry-After": retry_after},
    )
    response.retry_request = True
    return response


def includeme(config):
    config.add_view(conflict_view, context=ConcurrentWriteConflict)
