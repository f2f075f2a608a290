"""Which ``callback`` URLs the login endpoint may send tokens to.

The tokens a provider gives end up in the callback URL, so it must match
one of the trusted patterns (``multiauth.policy.<name>.trusted_callback_urls``;
by default local clients on any port, and the admin page when it is served).
In a pattern, ``*`` stands for any run of characters in the host, the port
and the rest of the URL; nothing else is special.

A URL a browser could read differently from this parser is never trusted:
spaces or control characters, credentials before the host, characters
outside the host name alphabet (``https://evil.com\\.trusted.com``), and
dot segments in the path, encoded or not.
"""

import re
import string
from urllib.parse import urlsplit

DEFAULT_TRUSTED = ("http://localhost:*/*", "http://127.0.0.1:*/*")

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST_CHARS = frozenset(string.ascii_lowercase + string.digits + ".-*")
_IPV6_CHARS = frozenset("0123456789abcdef:.")
_PORT_CHARS = frozenset(string.digits + "*")


class Untrusted(ValueError):
    pass


def _parts(url):
    """``(scheme, host, port, rest)`` of ``url``, normalised for comparison."""
    if any(char.isspace() or not char.isprintable() for char in url):
        raise Untrusted("space or control character")
    try:
        split = urlsplit(url)
    except ValueError as error:
        raise Untrusted(str(error)) from None
    if split.scheme not in _DEFAULT_PORTS:
        raise Untrusted("scheme")
    if "@" in split.netloc:
        raise Untrusted("credentials in the URL")
    bracketed = split.netloc.startswith("[")
    host = split.hostname or ""
    if not host or not set(host) <= (_IPV6_CHARS if bracketed else _HOST_CHARS):
        raise Untrusted("host")
    # The port as written (``parts.port`` refuses the ``*`` of patterns).
    after_host = split.netloc.rpartition("]")[2] if bracketed else split.netloc
    port = after_host.partition(":")[2]
    if not set(port) <= _PORT_CHARS:
        raise Untrusted("port")
    decoded_path = split.path.lower().replace("%2e", ".").replace("\\", "/")
    if {".", ".."} & set(decoded_path.split("/")):
        raise Untrusted("dot segment")
    rest = url[len(split.scheme) + 3 + len(split.netloc) :] or "/"
    return split.scheme, host, port or _DEFAULT_PORTS[split.scheme], rest


def _glob(pattern):
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.DOTALL)


def is_trusted(callback, patterns):
    try:
        scheme, host, port, rest = _parts(callback)
    except Untrusted:
        return False
    for pattern in patterns:
        try:
            trusted = _parts(pattern)
        except Untrusted:
            continue
        if trusted[0] == scheme and all(
            _glob(expected).fullmatch(actual) for expected, actual in zip(trusted[1:], (host, port, rest), strict=True)
        ):
            return True
    return False
