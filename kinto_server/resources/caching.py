"""Cache headers of record reads, as Kinto 26.5 sends them (compared over
HTTP): an anonymous GET or HEAD of a collection's records, or of one of
them, may be cached for the collection's ``cache_expires`` seconds, else
``kinto.<bid>.<cid>.record_cache_expires_seconds``, else
``kinto.<bid>.record_cache_expires_seconds``, else
``kinto.record_cache_expires_seconds`` (a ``cache_expires`` of 0 yields to
them, and applies only without them). Authenticated reads, and every other
answer, stay ``no-cache, no-store``.
"""

import logging
from datetime import datetime, timedelta, timezone

logger = logging.getLogger(__name__)


def cache_headers(seconds):
    """``Cache-Control`` and ``Expires`` for ``seconds``; 0 (or less) forbids
    caching, as Kinto (through WebOb) says it."""
    if seconds <= 0:
        return {
            "Cache-Control": "max-age=0, must-revalidate, no-cache, no-store",
            "Expires": _http_date(datetime.now(timezone.utc)),
            "Pragma": "no-cache",
        }
    expires = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return {"Cache-Control": f"max-age={seconds}", "Expires": _http_date(expires)}


def _http_date(moment):
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def seconds_setting(settings, name):
    """An integer setting that plugins and operators name freely, or None
    when unset; a value that is no integer is ignored, with a warning."""
    value = settings.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        logger.warning("Ignoring kinto.%s = %r: not a number of seconds", name, value)
        return None


def record_headers(request, collection_ref, collection):
    """The cache headers of an anonymous read of the records of
    ``collection`` (its stored object), or {}."""
    if request.authenticated_userid is not None or collection_ref is None:
        return {}
    seconds = collection.get("cache_expires") if collection else None
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        seconds = None
    if not seconds:
        # As Kinto: a cache_expires of 0 yields to the settings, if any.
        settings = request.registry.settings
        bucket_id, collection_id = collection_ref.ids[0], collection_ref.ids[-1]
        for name in (
            f"{bucket_id}.{collection_id}.record_cache_expires_seconds",
            f"{bucket_id}.record_cache_expires_seconds",
            "record_cache_expires_seconds",
        ):
            found = seconds_setting(settings, name)
            if found is not None:
                seconds = found
                break
    return cache_headers(seconds) if seconds is not None else {}
