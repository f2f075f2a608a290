"""The attachment endpoints: kinto-attachment's ``POST`` and ``DELETE
{record}/attachment``, and downloads through the server: ``GET
{record}/attachment`` and ``GET /attachments/<location>`` (where the
capability's ``base_url`` points by default), checked against the record's
``read`` permission, with ETag, ``Range`` and the stored media type."""

from urllib.parse import quote

from cornice import Service
from pyramid.response import Response
from webob.static import FileIter

from kinto_server.errors import ERRORS, cornice_errors_to_response, http_error
from kinto_server.plugins.attachments import links, operations
from kinto_server.resources.target import ref_from_matchdict
from kinto_server.resources.tree import RECORD, ref_from_uri
from kinto_server.views.rendering import BASE_EXPOSED, SECURITY_HEADERS, json_response

RECORD_PATH = "/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}"
DOWNLOAD_PATH = "/attachments/{location:.+}"
DOWNLOAD_EXPOSED = BASE_EXPOSED + ("ETag", "Last-Modified", "Content-Range", "Accept-Ranges", "Content-Disposition")
# A file is someone's upload: it must never run as a page of this origin.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"
_INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "application/json")

attachment = Service(
    name="attachment",
    path=RECORD_PATH + "/attachment",
    description="A record's attached file",
    error_handler=cornice_errors_to_response,
)
attachment.exposed = {"GET": DOWNLOAD_EXPOSED, "HEAD": DOWNLOAD_EXPOSED}
download = Service(name="attachment-download", path=DOWNLOAD_PATH, description="An attached file, by its location")
download.exposed = attachment.exposed


def _plugin(request):
    return request.registry.attachments


def _record(request):
    return ref_from_matchdict(request, RECORD, request.matchdict)


@attachment.post()
def post_attachment(request):
    ref = _record(request)
    metadata, status = operations.attach(request, ref, _plugin(request))
    return json_response(metadata, status, {"Location": request.route_url("record-object", **request.matchdict)})


@attachment.delete()
def delete_attachment(request):
    operations.detach(request, _record(request), _plugin(request))
    response = Response(status=204, headerlist=list(SECURITY_HEADERS.items()))
    response.has_security_headers = True
    return response


@attachment.get()
def get_attachment(request):
    metadata = operations.readable_attachment(request, _record(request))
    if not metadata:
        raise http_error(404, ERRORS.MISSING_RESOURCE, "This record has no attachment.")
    return _file_response(request, metadata)


@download.get()
def get_download(request):
    location = request.matchdict["location"]
    link = links.find(request.registry.storage, location)
    ref = ref_from_uri(link["record_uri"]) if link is not None else None
    metadata = operations.readable_attachment(request, ref) if ref is not None else None
    if not metadata or metadata.get("location") != location:
        raise http_error(404, ERRORS.MISSING_RESOURCE, "No such attachment.")
    return _file_response(request, metadata)


def _disposition(metadata):
    kind = "inline" if metadata.get("mimetype") in _INLINE else "attachment"
    return f"{kind}; filename*=UTF-8''{quote(metadata.get('filename') or 'attachment', safe='')}"


def _file_response(request, metadata):
    digest = metadata.get("hash")
    if digest and digest in request.if_none_match:
        unchanged = Response(status=304)
        unchanged.etag = digest
        return unchanged
    stored = _plugin(request).store.open(metadata["location"])
    if stored is None:
        raise http_error(404, ERRORS.MISSING_RESOURCE, "The attached file is missing from the store.")
    if request.range is not None and request.range.range_for_length(stored.size) is None:
        stored.stream.close()
        message = f"Requested range not satisfiable: the file has {stored.size} bytes."
        raise http_error(416, ERRORS.INVALID_PARAMETERS, message, headers={"Content-Range": f"bytes */{stored.size}"})
    response = Response(
        app_iter=FileIter(stored.stream),
        content_length=stored.size,
        content_type=metadata.get("mimetype") or "application/octet-stream",
        conditional_response=True,
        charset=None,
    )
    response.etag = digest
    response.accept_ranges = "bytes"
    response.headers.update(
        {
            "Cache-Control": "private, no-cache",
            "Content-Disposition": _disposition(metadata),
            "Content-Security-Policy": DOWNLOAD_POLICY,
            "X-Content-Type-Options": "nosniff",
        }
    )
    return response
