"""Colander schemas of request bodies, and the cornice validator using them."""

import math

import colander
import ujson

from kinto_server.errors import not_a_mapping
from kinto_server.resources import invariants, patching
from kinto_server.resources.tree import COLLECTION, GROUP

JSON_CONTENT_TYPES = ("application/json",)
JSON_PATCH_OPERATIONS = ("test", "add", "remove", "replace", "move", "copy")


class _Principals(colander.SequenceSchema):
    principal = colander.SchemaNode(colander.String())


def _member(node, value):
    """Members are users: not ``system.Everyone``, not another group."""
    problem = invariants.member_problem(value)
    if problem:
        raise colander.Invalid(node, problem)


class _Members(colander.SequenceSchema):
    member = colander.SchemaNode(colander.String(), validator=_member)


def permissions_schema(resource):
    """``permissions``: a list of principals per permission of the resource."""
    schema = colander.SchemaNode(colander.Mapping(unknown="raise"), name="permissions", missing=colander.drop)
    for permission in resource.permissions:
        schema.add(_Principals(name=permission, missing=colander.drop))
    return schema


def data_schema(resource):
    schema = colander.SchemaNode(colander.Mapping(unknown="preserve"), name="data", missing=colander.drop)
    if resource is GROUP:
        members = _Members(name="members", missing=colander.drop)
        schema.add(members)
    if resource is COLLECTION:
        schema.add(colander.SchemaNode(colander.Int(), name="cache_expires", missing=colander.drop))
    return schema


def body_schema(resource):
    schema = colander.SchemaNode(colander.Mapping(unknown="raise"))
    schema.add(data_schema(resource))
    schema.add(permissions_schema(resource))
    return schema


def _content_type_ok(request):
    content_type = (request.content_type or "").lower()
    return content_type in JSON_CONTENT_TYPES or content_type.endswith("+json")


def parse_json_body(request):
    """The request's JSON body (None when empty); errors go to request.errors."""
    if (request.body or request.content_type) and not _content_type_ok(request):
        request.errors.add("header", "Content-Type", "Content-Type header should be one of ['application/json']")
        request.errors.status = 415
        return None
    if not request.body:
        return None
    try:
        body = ujson.loads(request.body)
    except (ValueError, RecursionError) as error:
        request.errors.add("body", "", f"Invalid JSON: {error}")
        request.errors.add("body", "", "Required")  # As Kinto: the body is then missing too.
        return None
    problem = _problem(body, request.registry.settings["max_json_depth"])
    if problem:
        request.errors.add("body", "", problem)
        return None
    return body


def _problem(value, max_depth):
    """Why ``value`` cannot be stored, or None. One iterative walk (no
    recursion limit) for what every backend must refuse alike: nesting past
    ``max_depth``, null characters (PostgreSQL cannot store them) and NaN or
    infinite numbers (not JSON)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
            if any("\x00" in key for key in item):
                return "Null characters (\\u0000) are not allowed"
        elif isinstance(item, list):
            children = item
        elif isinstance(item, str):
            if "\x00" in item:
                return "Null characters (\\u0000) are not allowed"
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "NaN and infinite numbers are not valid JSON"
            continue
        else:
            continue
        if level > max_depth:
            return f"JSON nested deeper than {max_depth} levels"
        stack.extend((child, level + 1) for child in children)
    return None


class _Operation(colander.MappingSchema):
    op = colander.SchemaNode(colander.String(), validator=colander.OneOf(JSON_PATCH_OPERATIONS))
    path = colander.SchemaNode(colander.String())

    @staticmethod
    def schema_type():
        return colander.Mapping(unknown="preserve")


class _Operations(colander.SequenceSchema):
    operation = _Operation()


_operations = _Operations()


def _validate_json_patch(request, body):
    try:
        request.validated["body"] = {"operations": _operations.deserialize(body)}
    except colander.Invalid as invalid:
        for name, description in invalid.asdict().items():
            request.errors.add("body", name, description)


RESPONSE_BEHAVIORS = ("full", "light", "diff")


def _validate_response_behavior(request):
    """Kinto's ``Response-Behavior`` header of a PATCH (case-sensitive, as
    Kinto; empty means full); its error is listed with the body's."""
    value = request.headers.get("Response-Behavior") or "full"
    if value not in RESPONSE_BEHAVIORS:
        request.errors.add("header", "Response-Behavior", f'"{value}" is not one of {", ".join(RESPONSE_BEHAVIORS)}')
    request.validated["response_behavior"] = value


def body_validator(resource):
    """A cornice validator putting the checked body in ``request.validated``
    (and, for PATCH, the patch format named by the Content-Type)."""
    schema = body_schema(resource)

    def validate(request, **kwargs):
        if request.method == "PATCH":
            _validate_response_behavior(request)
        known_errors = len(request.errors)
        body = parse_json_body(request)
        if len(request.errors) > known_errors:
            return
        patch_format = (request.content_type or patching.JSON).lower()
        request.validated["patch_format"] = patch_format
        if request.method == "PATCH" and patch_format == patching.JSON_PATCH:
            _validate_json_patch(request, body)
            return
        checked = checked_body(resource, {} if body is None else body, request.errors, schema)
        if checked is not None:
            request.validated["body"] = checked

    validate.schema = schema  # Read by the OpenAPI description.
    return validate


def checked_body(resource, body, errors, schema=None):
    """``body`` (``{data, permissions}``) as ``resource``'s schema reads it,
    or None once what is wrong is added to ``errors`` (cornice's
    ``request.errors``, or a list of error dicts)."""

    def add(name, description):
        if hasattr(errors, "add"):
            errors.add("body", name, description)
        else:
            errors.append({"location": "body", "name": name, "description": description})

    if not isinstance(body, dict):
        add("", not_a_mapping(body))
        return None
    for field in ("data", "permissions"):
        if field in body and not isinstance(body[field], dict):
            add(field, not_a_mapping(body[field]))
            return None
    unknown = [p for p in body.get("permissions", {}) if p not in resource.permissions]
    if unknown:
        add("permissions", f'"{unknown[0]}" is not one of {", ".join(resource.permissions)}')
        return None
    try:
        return (schema or body_schema(resource)).deserialize(body)
    except colander.Invalid as invalid:
        for name, description in invalid.asdict().items():
            add(name, description)
        return None
