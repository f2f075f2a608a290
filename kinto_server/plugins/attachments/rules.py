"""kinto-attachment's settings, for one upload: the global
``kinto.attachment.<name>``, overridden for a bucket by
``kinto.attachment.resources.<bid>.<name>`` and for a collection by
``kinto.attachment.resources.<bid>.<cid>.<name>``."""

import mimetypes
from dataclasses import dataclass

from kinto_server.settings import ConfigurationError, as_bool, as_int

# kinto-attachment's groups of allowed extensions.
_GROUPS = {
    "documents": "pdf rtf odf ods gnumeric abw doc docx xls xlsx",
    "text": "txt",
    "images": "jpg jpe jpeg png gif svg bmp tiff",
    "audio": "wav mp3 aac ogg oga flac",
    "video": "mpeg 3gp avi divx dvr flv mp4 wmv",
    "data": "csv ini json plist xml yaml yml",
    "scripts": "js php pl py rb sh",
    "archives": "gz bz2 zip tar tgz txz 7z",
    "executables": "so exe dll",
}
_GROUPS["default"] = " ".join(_GROUPS[name] for name in ("documents", "text", "images", "data"))
_GROUPS["any"] = ""
# Types kinto-attachment gives whatever the client says.
DEFAULT_MIMETYPES = {".pem": "application/x-pem-file", ".geojson": "application/geojson"}
PER_RESOURCE = {"randomize": as_bool, "keep_old_files": as_bool, "max_size_bytes": as_int}
GLOBAL = {
    "folder": str,
    "extensions": str,
    "mimetypes": str,
    "keep_old_files": as_bool,
    "randomize": as_bool,
    "max_size_bytes": as_int,
}
DEFAULTS = {
    "folder": "{bucket_id}/{collection_id}",
    "extensions": "default",
    "mimetypes": "",
    "keep_old_files": False,
    "randomize": True,
    "max_size_bytes": 0,
}


def resolve_extensions(text):
    """``images+pdf`` → the allowed extensions; an empty set allows any."""
    allowed = set()
    for group in text.split("+"):
        allowed.update(_GROUPS.get(group, group).lower().split())
    return frozenset(allowed)


def parse_mimetypes(text):
    """``.ext:type;.other:type`` → ``{".ext": "type"}`` (kinto-attachment's format)."""
    found = dict(DEFAULT_MIMETYPES)
    for pair in filter(None, (part.strip() for part in text.split(";"))):
        extension, sep, mimetype = pair.partition(":")
        if not sep or not mimetype.strip():
            raise ConfigurationError(f"kinto.attachment.mimetypes: {pair!r} is not .ext:media/type")
        found[extension.strip().lower()] = mimetype.strip()
    return found


@dataclass(frozen=True)
class Rules:
    folder: str
    extensions: frozenset
    mimetypes: dict
    keep_old_files: bool
    max_size_bytes: int

    def extension_allowed(self, filename):
        if not self.extensions:
            return True
        _, dot, extension = filename.rpartition(".")
        return bool(dot) and extension.lower() in self.extensions

    def mimetype(self, filename, sent):
        _, dot, extension = filename.rpartition(".")
        overridden = self.mimetypes.get(f".{extension.lower()}") if dot else None
        return overridden or sent or mimetypes.guess_type(filename)[0] or "application/octet-stream"


class Settings:
    """Every attachment setting, read once at start-up."""

    def __init__(self, settings):
        values = dict(DEFAULTS)
        self.overrides = {}  # "/buckets/b" or "/buckets/b/collections/c" -> {name: value}
        for key, raw in settings.items():
            if not key.startswith("attachment."):
                continue
            name = key[len("attachment.") :]
            if name.startswith("resources."):
                self._override(key, name[len("resources.") :], raw)
            elif name in GLOBAL:
                values[name] = self._convert(key, GLOBAL[name], raw)
        self.values = values
        self.extensions = resolve_extensions(values["extensions"])
        self.mimetypes = parse_mimetypes(values["mimetypes"])

    def _override(self, key, rest, raw):
        parts = rest.split(".")
        if len(parts) == 2:
            uri = f"/buckets/{parts[0]}"
        elif len(parts) == 3:
            uri = f"/buckets/{parts[0]}/collections/{parts[1]}"
        else:
            raise ConfigurationError(f"{key}: expected attachment.resources.<bucket>[.<collection>].<setting>")
        name = parts[-1]
        if name not in PER_RESOURCE:
            raise ConfigurationError(
                f"{key}: {name!r} cannot be set per bucket or collection ({', '.join(PER_RESOURCE)} can)"
            )
        self.overrides.setdefault(uri, {})[name] = self._convert(key, PER_RESOURCE[name], raw)

    @staticmethod
    def _convert(key, converter, raw):
        try:
            return converter(raw)
        except ValueError as error:
            raise ConfigurationError(f"kinto.{key}: {error}") from None

    def for_collection(self, bucket_id, collection_id):
        values = dict(self.values)
        values.update(self.overrides.get(f"/buckets/{bucket_id}", {}))
        values.update(self.overrides.get(f"/buckets/{bucket_id}/collections/{collection_id}", {}))
        return Rules(
            folder=values["folder"],
            extensions=self.extensions,
            mimetypes=self.mimetypes,
            keep_old_files=values["keep_old_files"],
            max_size_bytes=values["max_size_bytes"] or 0,
        )
