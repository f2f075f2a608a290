"""The ini file the server was started with, as ``GET /v1/`` reports it
(Kinto's ``config`` key): its path, the SHA-256 of its content and its
modification time, read once at start-up — what is running, not what the
file may have become since."""

import hashlib
import logging
import os
from datetime import datetime

logger = logging.getLogger(__name__)


def describe(path):
    """``{"path", "hash", "modified"}`` of ``path``; None when there is none
    (an app made in code, or a file that cannot be read)."""
    path = path or os.environ.get("KINTO_INI")
    if not path:
        return None
    try:
        with open(path, "rb") as ini:
            digest = hashlib.sha256(ini.read()).hexdigest()
        modified = datetime.fromtimestamp(os.path.getmtime(path)).isoformat()
    except OSError as error:
        logger.warning("Cannot read the configuration file %s: %s", path, error)
        return None
    return {"path": path, "hash": digest, "modified": modified}
