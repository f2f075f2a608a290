"""Reading an upload: kinto-attachment's multipart form (a file field
``attachment``, optional ``data`` and ``permissions`` JSON strings), its
file streamed to a temporary file of the store while it is hashed and
measured, and refused (400, in kinto-attachment's words) as soon as it
breaks a rule: never held whole in memory."""

import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass

from kinto_server.errors import ERRORS, http_error, validation_details, validation_message
from kinto_server.plugins.attachments.files import CHUNK_BYTES
from kinto_server.resources.tree import RECORD
from kinto_server.views.schemas import checked_body

FILE_FIELD = "attachment"
# Where an upload's body goes to a temporary file rather than memory (the
# server keeps JSON bodies, up to 16 MiB, in memory).
BODY_IN_MEMORY_BYTES = 64 * 1024
FORM_FIELDS = ("data", "permissions")
_EXTENSION = re.compile(r"^[a-z0-9]{1,16}$")


@dataclass
class Upload:
    """An upload, checked: its file waits in ``path`` (the caller stores or removes it)."""

    filename: str
    mimetype: str
    size: int
    hash: str
    path: str
    extension: str  # lower-case, without the dot; "" when none or unusable
    data: dict
    permissions: dict | None

    def metadata(self, location):
        return {
            "filename": self.filename,
            "hash": self.hash,
            "location": location,
            "mimetype": self.mimetype,
            "size": self.size,
        }


def _bad_request(errno, message):
    return http_error(400, errno, message, error="Bad Request")


def _invalid(description):
    details = [{"location": "body", "name": None, "description": description}]
    return http_error(400, ERRORS.INVALID_PARAMETERS, f"body: {description}", details)


def extension_of(filename):
    _, dot, extension = filename.rpartition(".")
    extension = extension.lower() if dot else ""
    return extension if _EXTENSION.match(extension) else ""


def _form(request):
    if "multipart/form-data" not in request.headers.get("Content-Type", ""):
        raise _bad_request(ERRORS.INVALID_PARAMETERS, "Content-Type should be multipart/form-data")
    request.request_body_tempfile_limit = BODY_IN_MEMORY_BYTES
    request.add_finished_callback(_close_body_files)
    try:
        return request.POST
    except (ValueError, UnicodeDecodeError) as error:
        raise _bad_request(ERRORS.INVALID_PARAMETERS, f"The multipart body cannot be read: {error}") from None


def _close_body_files(request):
    """WebOb leaves the body's temporary files open: closed at the end of the request."""
    files = [request.body_file_raw]
    with contextlib.suppress(Exception):  # an unreadable body has no part to close
        files += [getattr(part, "file", None) for part in request.POST.values()]
    for file in files:
        if file is not None and hasattr(file, "close"):
            file.close()


def _json_fields(form):
    values = {}
    for name, value in form.items():
        if name == FILE_FIELD:
            continue
        if name not in FORM_FIELDS:
            raise _bad_request(ERRORS.INVALID_POSTED_DATA, f"body: {name!r} not in ('data', 'permissions')")
        if not isinstance(value, str):
            raise _bad_request(
                ERRORS.INVALID_POSTED_DATA, f"body: {name!r} field should be passed as form data, not files"
            )
        try:
            values[name] = json.loads(value)
        except ValueError as error:
            raise _bad_request(ERRORS.INVALID_POSTED_DATA, f"body: {name} is not valid JSON ({error})") from None
        if not isinstance(values[name], dict):
            raise _bad_request(ERRORS.INVALID_POSTED_DATA, f"body: {name} must be a JSON object")
    # Then as the body of a record's PUT would be.
    errors = []
    checked = checked_body(RECORD, values, errors)
    if checked is None:
        details = validation_details(errors)
        raise http_error(400, ERRORS.INVALID_PARAMETERS, validation_message(details[0]), details)
    return {name: checked[name] for name in values}


def read(request, rules, store):
    """The :class:`Upload` of ``request``, checked against ``rules`` (a
    :class:`~.rules.Rules`): its file copied into ``store.incoming()``."""
    form = _form(request)
    if FILE_FIELD not in form:
        raise _bad_request(ERRORS.INVALID_POSTED_DATA, "Attachment missing.")
    part = form[FILE_FIELD]
    if isinstance(part, str) or not getattr(part, "filename", None):
        raise _invalid("Filename is required.")
    fields = _json_fields(form)
    filename = part.filename
    if not rules.extension_allowed(filename):
        raise _invalid("File extension is not allowed.")
    size, digest = 0, hashlib.sha256()
    target = store.incoming()
    try:
        with target:
            source = part.file
            source.seek(0)
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if rules.max_size_bytes and size > rules.max_size_bytes:
                    limit = rules.max_size_bytes
                    raise _invalid(f"File size ({_total(source)} bytes) exceeds the limit ({limit} bytes).")
                digest.update(chunk)
                target.write(chunk)
    except BaseException:
        os.unlink(target.name)
        raise
    return Upload(
        filename=filename,
        mimetype=rules.mimetype(filename, part.type),
        size=size,
        hash=digest.hexdigest(),
        path=target.name,
        extension=extension_of(filename),
        data=fields.get("data") or {},
        permissions=fields.get("permissions"),
    )


def _total(source):
    """The whole file's size, for the message (the part is already parsed)."""
    source.seek(0, os.SEEK_END)
    return source.tell()
