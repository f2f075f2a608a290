"""Cornice services of the four resources: buckets, collections, groups and
records, each with a plural endpoint and an object endpoint."""

import re

from cornice import Service
from pyramid.httpexceptions import HTTPMethodNotAllowed

from kinto_server.errors import cornice_errors_to_response
from kinto_server.resources import lists, objects
from kinto_server.resources.target import ref_from_matchdict
from kinto_server.resources.tree import BUCKET, COLLECTION, GROUP, ID_PATTERN, RECORD
from kinto_server.views.rendering import exposes, render
from kinto_server.views.schemas import body_validator

# Most requests are on records: their routes are matched first.
PATHS = {
    RECORD: (
        "/buckets/{bucket_id}/collections/{collection_id}/records",
        "/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}",
    ),
    COLLECTION: ("/buckets/{bucket_id}/collections", "/buckets/{bucket_id}/collections/{collection_id}"),
    GROUP: ("/buckets/{bucket_id}/groups", "/buckets/{bucket_id}/groups/{group_id}"),
    BUCKET: ("/buckets", "/buckets/{bucket_id}"),
}


def _virtual_list(request, resource):
    """The view of a records list a plugin computes (None: a stored list)."""
    if resource is not RECORD or not request.registry.virtual_lists:
        return None
    matchdict = request.matchdict
    return request.registry.virtual_lists.get((matchdict["bucket_id"], matchdict["collection_id"]))


def plural_views(resource):
    def parent(request):
        return ref_from_matchdict(request, resource, request.matchdict, include_self=False)

    def get(request):
        # Pyramid routes HEAD to GET views; only HEAD counts the objects.
        is_head = request.method == "HEAD"
        virtual = _virtual_list(request, resource)
        if virtual is not None:
            return render(request, virtual(request, count=is_head))
        outcome = lists.list_objects(request, parent(request), resource, count=is_head)
        return render(request, outcome)

    def post(request):
        if _virtual_list(request, resource) is not None:
            raise HTTPMethodNotAllowed()
        body = request.validated["body"]
        return render(request, objects.create_object(request, parent(request), resource, body))

    def delete(request):
        if _virtual_list(request, resource) is not None:
            raise HTTPMethodNotAllowed()
        return render(request, lists.delete_objects(request, parent(request), resource))

    return {"GET": get, "POST": post, "DELETE": delete}


def object_views(resource):
    def ref(request):
        return ref_from_matchdict(request, resource, request.matchdict)

    def get(request):
        return render(request, objects.get_object(request, ref(request)))

    def put(request):
        return render(request, objects.put_object(request, ref(request), request.validated["body"]))

    def patch(request):
        body, patch_format = request.validated["body"], request.validated["patch_format"]
        return render(request, objects.patch_object(request, ref(request), body, patch_format))

    def delete(request):
        return render(request, objects.delete_object(request, ref(request)))

    return {"GET": get, "PUT": put, "PATCH": patch, "DELETE": delete}


WRITES_WITH_BODY = ("POST", "PUT", "PATCH")


def services():
    """One plural and one object cornice Service per resource."""
    made = []
    for resource, (plural_path, object_path) in PATHS.items():
        validator = body_validator(resource)
        for kind, path, views in (
            ("plural", plural_path, plural_views(resource)),
            ("object", object_path, object_views(resource)),
        ):
            description = f"{resource.plural.capitalize()}" if kind == "plural" else f"One {resource.name}"
            service = Service(
                name=f"{resource.name}-{kind}",
                path=path,
                description=description,
                error_handler=cornice_errors_to_response,
            )
            service.listing = kind == "plural"
            exposes(service, listing=service.listing)
            # Read by the OpenAPI description.
            service.path_patterns = dict.fromkeys(re.findall(r"{(\w+)}", path), ID_PATTERN.pattern)
            for method, view in views.items():
                validators = (validator,) if method in WRITES_WITH_BODY else ()
                service.add_view(method, view, validators=validators)
            made.append(service)
    return made


def includeme(config):
    for service in services():
        config.add_cornice_service(service)
