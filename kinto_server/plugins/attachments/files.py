"""Where attachment files are kept: a folder (the default) or an
S3-compatible object store, behind one small interface.

A file is named by a *key* that this server makes (``folder/uuid.ext``,
never the uploaded file name), so that no name a client sends becomes a
path. Files are written once and never changed: a new upload is a new key.
"""

import abc
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class StoredFile:
    """An open file of the store and its size (``stream`` is closed by the caller)."""

    stream: object
    size: int


class FileStore(abc.ABC):
    """What the attachments need from a place to keep files."""

    @abc.abstractmethod
    def save(self, key, source, *, mimetype):
        """Store the file at the path ``source`` (a temporary file of
        :meth:`incoming`, moved or copied) under ``key``."""

    @abc.abstractmethod
    def open(self, key):
        """:class:`StoredFile` of ``key``, or None when there is none."""

    @abc.abstractmethod
    def delete(self, key):
        """Remove ``key``; nothing happens when it is not there."""

    @abc.abstractmethod
    def delete_all(self):
        """Remove every file (``__flush__``)."""

    @abc.abstractmethod
    def heartbeat(self):
        """True when a file can be written, read and removed."""

    def incoming(self):
        """A new temporary file (binary, open for writing) where an upload
        is streamed before it is stored; the caller removes it."""
        return tempfile.NamedTemporaryFile(prefix="upload-", delete=False)  # noqa: SIM115 - the caller owns it


class LocalFileStore(FileStore):
    """Files in a folder (``kinto.attachment.base_path``)."""

    def __init__(self, base_path):
        self.base = Path(base_path).resolve()
        self._incoming = self.base / ".incoming"

    def _path(self, key):
        path = (self.base / key).resolve()
        if not path.is_relative_to(self.base) or path == self.base or path.parent == self._incoming:
            raise ValueError(f"not a key of this store: {key!r}")
        return path

    def incoming(self):
        # In the store's own folder: storing is then a rename, not a copy.
        self._incoming.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(prefix="upload-", dir=self._incoming, delete=False)  # noqa: SIM115

    def save(self, key, source, *, mimetype):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, path)

    def open(self, key):
        try:
            path = self._path(key)
            stream = path.open("rb")
        except (ValueError, FileNotFoundError, IsADirectoryError):
            return None
        return StoredFile(stream, os.fstat(stream.fileno()).st_size)

    def delete(self, key):
        with contextlib.suppress(ValueError, FileNotFoundError):
            self._path(key).unlink()

    def delete_all(self):
        if not self.base.exists():
            return
        for child in self.base.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def heartbeat(self):
        try:
            self.base.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.base, prefix=".heartbeat-") as probe:
                probe.write(b"ok")
                probe.flush()
                probe.seek(0)
                return probe.read() == b"ok"
        except OSError:
            return False
