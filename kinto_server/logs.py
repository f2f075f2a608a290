"""One log line per request, as Kinto writes it, and the formatters and
handler an ini names in its ``[formatter_*]`` and ``[handler_*]`` sections.

Every request is logged at INFO on the ``request.summary`` logger (each
sub-request of a batch on ``subrequest.summary``), with Kinto's fields:
``agent``, ``path``, ``method``, ``lang``, ``rid`` (the ``X-Request-Id``
sent, or a new one), ``errno``, ``querystring``, ``uid`` and
``authn_type``, ``time``, ``code`` and ``t`` (milliseconds). Kinto's
formats:

- ``kinto_server.logs.JsonLogFormatter`` (Kinto: ``kinto.core.JsonLogFormatter``):
  one JSON object per line in the Mozlog format (``Timestamp``, ``Type``,
  ``Logger``, ``Hostname``, ``EnvVersion``, ``Severity``, ``Pid``,
  ``Fields``);
- ``kinto_server.logs.ColorFormatter`` (Kinto: ``logging_color_formatter.ColorFormatter``):
  the message then the fields as ``key=value``, for a terminal;
- ``kinto_server.logs.StreamHandlerWithRequestID`` (Kinto:
  ``kinto.core.StreamHandlerWithRequestID``): a stream handler that puts
  the request id on every record logged while a request runs.

Beyond Kinto, no log line ever holds a credential: request headers and
bodies are never logged (Kinto logs them, ``Authorization`` included, when
``request.summary`` is at DEBUG), and querystring values whose names speak
of one (``password``, ``token``, ``ticket``, ``secret``, ``code``, ``key``,
``auth``) are replaced by ``[redacted]``.
"""

import configparser
import contextvars
import datetime
import importlib.util
import io
import json
import logging
import logging.config
import os
import re
import socket
import time
import traceback
import uuid

from kinto_server.environ_keys import IDENTITY_KEY, LOG_FIELDS, SUBREQUEST

summary_logger = logging.getLogger("request.summary")
subrequest_logger = logging.getLogger("subrequest.summary")

request_id = contextvars.ContextVar("kinto_server_request_id", default=None)

SENSITIVE = re.compile(r"password|passwd|token|ticket|secret|code|key|auth|session|credential", re.IGNORECASE)
REDACTED = "[redacted]"
# What a LogRecord has of its own: everything else was passed as ``extra``.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "rid"}
_SYSLOG_SEVERITY = {50: 2, 40: 3, 30: 4, 20: 6, 10: 7}


def redacted_querystring(params):
    """The querystring as Kinto logs it (a dict, the last value of a
    repeated name), with the values of credential-like names hidden."""
    return {name: REDACTED if SENSITIVE.search(name) else value for name, value in params.items()}


def _fields(record):
    fields = {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
    rid = getattr(record, "rid", None)
    if rid is not None:
        fields.setdefault("rid", rid)
    return fields


class JsonLogFormatter(logging.Formatter):
    """Mozlog JSON, as Kinto's (dockerflow's MozlogFormatter)."""

    logger_name = "kinto"

    def __init__(self, fmt=None, datefmt=None, style="%"):
        super().__init__(fmt, datefmt, "%")
        self.hostname = socket.gethostname()

    def format(self, record):
        fields = _fields(record)
        message = record.getMessage()
        if message and not (message.startswith("{") and message.endswith("}")):
            fields["msg"] = message
        if record.exc_info:
            fields["error"] = repr(record.exc_info[1])
            fields["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        entry = {
            "Timestamp": int(record.created * 1e9),
            "Type": record.name,
            "Logger": self.logger_name,
            "Hostname": self.hostname,
            "EnvVersion": "2.0",
            "Severity": _SYSLOG_SEVERITY.get(record.levelno, 7),
            "Pid": record.process,
            "Fields": fields,
        }
        return json.dumps(entry, default=repr)


class ColorFormatter(logging.Formatter):
    """Time, level, logger, the message (for a request: method, path,
    status and milliseconds), then the fields as ``key=value``; colored
    when standard error is a terminal."""

    COLORS = {
        "DEBUG": "\033[36m",
        "INFO": "\033[32m",
        "WARNING": "\033[33m",
        "ERROR": "\033[31m",
        "CRITICAL": "\033[1;31m",
    }
    RESET = "\033[0m"

    def format(self, record):
        fields = _fields(record)
        message = record.getMessage() or record.name
        if record.name == "request.summary":
            method, path = fields.pop("method", ""), fields.pop("path", "")
            message = f'"{method} {path}" {fields.pop("code", "")} ({fields.pop("t", "?")} ms)'
        elif record.name == "subrequest.summary":
            message = f'"{fields.pop("method", "")} {fields.pop("path", "")}"'
        line = " ".join(
            [self.formatTime(record), f"{record.levelname:<5}", f"[{record.name}]", message]
            + [f"{key}={value}" for key, value in fields.items()]
        )
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info))
        color = self.COLORS.get(record.levelname, "")
        return f"{color}{line}{self.RESET}" if color and os.isatty(2) else line


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        rid = request_id.get()
        if rid is not None or not hasattr(record, "rid"):
            record.rid = rid
        return True


class StreamHandlerWithRequestID(logging.StreamHandler):
    """A stream handler adding the current request's id to its records
    (a handler, since an ini file cannot attach filters)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addFilter(RequestIdFilter())


def _path(request):
    try:
        return request.path
    except UnicodeDecodeError:  # Not UTF-8: logged as sent, the answer is someone else's business.
        raw = request.environ.get("SCRIPT_NAME", "") + request.environ.get("PATH_INFO", "")
        return raw.encode("latin-1").decode("utf-8", "replace")


# A request id a client or proxy sends is kept if it cannot forge a log
# line or flood one (dockerflow's rule for Kinto is alike); else a new one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id_of(request):
    sent = request.headers.get("X-Request-Id")
    return sent if sent and REQUEST_ID.fullmatch(sent) else str(uuid.uuid4())


def summary_fields(request):
    """What a request's summary line starts with."""
    rid = request_id_of(request)
    fields = {
        "agent": request.headers.get("User-Agent"),
        "path": _path(request),
        "method": request.method,
        "lang": request.headers.get("Accept-Language"),
        "rid": rid,
        "errno": 0,
    }
    try:
        querystring = redacted_querystring(dict(request.GET.items()))
    except UnicodeDecodeError:
        querystring = {}
    if querystring:
        fields["querystring"] = querystring
    return {key: value for key, value in fields.items() if value is not None}


def _user_fields(request, fields):
    identity = request.__dict__.get(IDENTITY_KEY)
    if identity is not None and identity.user_id:
        fields["uid"] = identity.user_id.partition(":")[2]
        fields["authn_type"] = identity.policy


def _errno(response):
    if response.status_code < 400 or response.content_type != "application/json":
        return 0
    try:
        return json.loads(response.body).get("errno", 0)
    except (ValueError, AttributeError):
        return 0


def request_log_tween_factory(handler, registry):
    def request_log_tween(request):
        if request.environ.get(SUBREQUEST) or not summary_logger.isEnabledFor(logging.INFO):
            return handler(request)  # A batch's sub-requests: see log_subrequest.
        started = time.monotonic()
        fields = summary_fields(request)
        token = request_id.set(fields["rid"])
        request.environ[LOG_FIELDS] = fields
        try:
            response = handler(request)
            _user_fields(request, fields)
            now = time.time()
            fields["errno"] = _errno(response)
            fields["time"] = datetime.datetime.fromtimestamp(now).isoformat(timespec="microseconds")[:-3] + "000"
            fields["code"] = response.status_code
            fields["t"] = int((time.monotonic() - started) * 1000)
            summary_logger.info("", extra=fields)
            # Beyond Kinto: the id of the request's log lines, for proxies and clients to quote.
            response.headers["X-Request-Id"] = fields["rid"]
        finally:
            request_id.reset(token)
        return response

    return request_log_tween


def note_batch_size(environ, size):
    """A batch's summary line says how many sub-requests it had (as Kinto's)."""
    fields = environ.get(LOG_FIELDS)
    if fields is not None:
        fields["batch_size"] = size


def log_subrequest(parent_environ, subrequest):
    """A batch's sub-request, on ``subrequest.summary`` before it runs, with
    its batch's fields (as Kinto)."""
    parent = parent_environ.get(LOG_FIELDS)
    if parent is None or not subrequest_logger.isEnabledFor(logging.INFO):
        return
    subrequest_logger.info(
        "subrequest.summary", extra={**parent, "path": _path(subrequest), "method": subrequest.method}
    )


# Kinto's names for these classes, in the [handler_*] and [formatter_*]
# sections of its ini files (written by ``kinto init``).
KINTO_CLASS_NAMES = {
    "kinto.core.JsonLogFormatter": "kinto_server.logs.JsonLogFormatter",
    "kinto.core.StreamHandlerWithRequestID": "kinto_server.logs.StreamHandlerWithRequestID",
    "logging_color_formatter.ColorFormatter": "kinto_server.logs.ColorFormatter",
}


def _importable(dotted):
    module = dotted.rpartition(".")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def setup_logging(ini):
    """``logging.config.fileConfig`` of an ini's logging sections, as
    ``pserve`` does, Kinto's class names read as ours unless the packages
    they come from are installed. (``pserve`` itself cannot be told: with
    it, an ini written for Kinto names the classes above by their
    ``kinto_server.logs`` names.)"""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ini)
    if not parser.has_section("loggers"):
        logging.basicConfig()
        return
    for section in parser.sections():
        if section.startswith(("handler_", "formatter_")) and parser.has_option(section, "class"):
            name = parser.get(section, "class").strip()
            if name in KINTO_CLASS_NAMES and not _importable(name):
                parser.set(section, "class", KINTO_CLASS_NAMES[name])
    here = os.path.dirname(os.path.abspath(ini))
    defaults = {"__file__": os.path.abspath(ini), "here": here}
    logging.config.fileConfig(parser_with_defaults(parser, defaults), disable_existing_loggers=False)


def parser_with_defaults(parser, defaults):
    """A parser fileConfig accepts (it interpolates ``%(here)s``...)."""
    text = io.StringIO()
    parser.write(text)
    interpolating = configparser.ConfigParser(defaults)
    interpolating.read_string(text.getvalue())
    return interpolating
