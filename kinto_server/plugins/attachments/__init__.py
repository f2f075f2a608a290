"""Files attached to records, compatible with kinto-attachment
(``kinto_attachment`` in ``kinto.includes``, its users' name, or
``kinto_server.plugins.attachments``): its endpoints, settings
(``kinto.attachment.*``) and ``attachments`` capability.

Beyond kinto-attachment: downloads go through the server and check the
record's ``read`` permission (``GET {record}/attachment``, or the
capability's ``base_url`` followed by the ``location``), unless
``kinto.attachment.base_url`` names a public place serving the files (a
CDN, kinto-attachment's way); ``location`` is relative to that base, so
that moving the files or the host changes no record; files follow their
records' deletions, ``__flush__`` included; a failed upload leaves nothing.

Storage: a folder (``kinto.attachment.base_path``; by default
``attachments/`` next to the SQLite file, a temporary folder for the memory
backend), or an S3-compatible store (:mod:`.s3`).
"""

import logging
import os
import re
import tempfile

from kinto_server import __version__
from kinto_server.events import ResourceChanged
from kinto_server.plugins.attachments import cleanup, views
from kinto_server.plugins.attachments.files import LocalFileStore
from kinto_server.plugins.attachments.rules import Settings
from kinto_server.plugins.flush import Flushed
from kinto_server.settings import ConfigurationError, as_int

logger = logging.getLogger(__name__)

# kinto-attachment's settings this server reads (besides resources.*): any
# other (gzipped, use_content_encoding, gcloud.*) is warned about, not ignored silently.
READ_SETTINGS = frozenset(
    ["base_path", "base_url", "extra.base_url", "max_upload_bytes"]
    + [f"aws.{name}" for name in ("access_key", "secret_key", "bucket_name", "acl", "endpoint_url", "region", "prefix")]
    + ["folder", "extensions", "mimetypes", "keep_old_files", "randomize", "max_size_bytes"]
)
UPLOAD_PATH = re.compile(r"^/v1/buckets/[^/]+/collections/[^/]+/records/[^/]+/attachment$")
DEFAULT_MAX_UPLOAD_BYTES = 1024**3


class Attachments:
    """The plugin's parts, found on ``registry.attachments``."""

    OWN_WRITE = "kinto_server.attachments.own_write"  # environ: a record write made by this plugin

    def __init__(self, settings, store):
        self.settings = settings
        self.store = store


def _default_base_path(settings):
    from kinto_server.database.sqlite import database_path

    url = settings.get("storage_url") or ""
    if settings.get("storage_backend", "").endswith("sqlite") and url:
        path = database_path(url, settings.get("config_folder"))
        if path != ":memory:":
            return os.path.join(os.path.dirname(path), "attachments")
    if settings.get("storage_backend", "memory").endswith("memory"):
        return tempfile.mkdtemp(prefix="kinto-attachments-")  # as long-lived as the data
    raise ConfigurationError(
        "kinto.attachment.base_path: where should attached files go? Set a folder "
        "(or kinto.attachment.aws.bucket_name for an S3-compatible store)"
    )


def _store(settings):
    if settings.get("attachment.aws.bucket_name"):
        from kinto_server.plugins.attachments.s3 import S3FileStore

        return S3FileStore.from_settings(settings)
    return LocalFileStore(settings.get("attachment.base_path") or _default_base_path(settings))


def _public_base_url(settings):
    """kinto-attachment's public base URL of the files (a CDN), if any."""
    base_url = settings.get("attachment.extra.base_url") or settings.get("attachment.base_url") or ""
    return base_url if not base_url or base_url.endswith("/") else base_url + "/"


def includeme(config):
    from kinto_server.views.heartbeat import Prober
    from kinto_server.views.root import server_url

    registry = config.registry
    settings = registry.settings
    for key in settings:
        name = key[len("attachment.") :] if key.startswith("attachment.") else None
        if name and name not in READ_SETTINGS and not name.startswith("resources."):
            logger.warning("kinto.%s is not supported by this server: ignored", key)
    plugin = registry.attachments = Attachments(Settings(settings), _store(settings))
    config.add_cornice_service(views.attachment)
    public = _public_base_url(settings)
    if not public:
        config.add_cornice_service(views.download)
    capability = {
        "description": "Add file attachments to records",
        "url": "https://github.com/Kinto/kinto-attachment/",
        "version": __version__,
        "base_url": public,
    }
    # Downloads through this server: its own URL, as the request names it.
    registry.capabilities["attachments"] = (
        capability if public else (lambda request: {**capability, "base_url": server_url(request) + "attachments/"})
    )
    registry.heartbeat_probers["attachments"] = Prober(lambda: plugin.store)
    try:
        max_upload = as_int(settings.get("attachment.max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES))
    except ValueError as error:
        raise ConfigurationError(f"kinto.attachment.max_upload_bytes: {error}") from None
    registry.body_size_limits.append((UPLOAD_PATH, max_upload, "attachment.max_upload_bytes"))
    config.add_subscriber(cleanup.on_change, ResourceChanged)
    config.add_subscriber(lambda event: plugin.store.delete_all(), Flushed)
