"""``GET /v1/__api__``: an OpenAPI 3 description of every endpoint, generated
from the registered cornice services (paths, methods, descriptions) and the
colander schemas their validators carry (request bodies)."""

import re

import colander
from cornice import Service

from kinto_server import __version__
from kinto_server.views.rendering import json_response

api = Service(name="api", path="/__api__", description="OpenAPI description of this server")

PATH_PARAMETER = re.compile(r"{([^}]+)}")
LIST_PARAMETERS = {
    "_limit": ("integer", "Maximum number of objects per page"),
    "_sort": ("string", "Fields to sort on, comma-separated, '-' for descending"),
    "_since": ("string", "Only changes after this timestamp (tombstones included)"),
    "_before": ("string", "Only changes before this timestamp"),
    "_token": ("string", "Continuation token, from the Next-Page header"),
    "_fields": ("string", "Fields to return, comma-separated"),
}
SUCCESS = {"get": "200", "head": "200", "post": "201", "put": "200", "patch": "200", "delete": "200"}
ERROR = {
    "type": "object",
    "required": ["code", "errno", "error"],
    "properties": {
        "code": {"type": "integer"},
        "errno": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
        "info": {"type": "string"},
        "details": {},
    },
}


def json_schema(node):
    """The JSON schema of a colander node."""
    typ = node.typ
    if isinstance(typ, colander.Mapping):
        schema = {"type": "object", "properties": {child.name: json_schema(child) for child in node.children}}
        required = [child.name for child in node.children if child.required]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = typ.unknown != "raise"
        return schema
    if isinstance(typ, colander.Sequence):
        return {"type": "array", "items": json_schema(node.children[0]) if node.children else {}}
    schema = {
        colander.String: {"type": "string"},
        colander.Integer: {"type": "integer"},
        colander.Float: {"type": "number"},
        colander.Boolean: {"type": "boolean"},
    }.get(type(typ), {})
    if isinstance(node.validator, colander.OneOf):
        schema = {**schema, "enum": list(node.validator.choices)}
    return schema


def _body_schema(arguments):
    for validator in arguments.get("validators", ()):
        node = getattr(validator, "schema", None)
        if node is not None:
            return json_schema(node)
    return None


RESPONSE_BEHAVIOR_PARAMETER = {
    "name": "Response-Behavior",
    "in": "header",
    "required": False,
    "description": "full (the default): the object; light: the sent fields the PATCH changed; diff: the sent"
    " fields stored otherwise than sent.",
    "schema": {"type": "string", "enum": ["full", "light", "diff"]},
}


def _operation(service, method, arguments):
    operation = {
        "operationId": f"{method}_{service.name}".replace("-", "_"),
        "summary": service.description or service.name,
        "responses": {
            SUCCESS[method]: {"description": "Success", "content": {"application/json": {"schema": {}}}},
            "default": {
                "description": "Kinto error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if method in ("get", "head") and getattr(service, "listing", False):
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": kind}}
            for name, (kind, text) in LIST_PARAMETERS.items()
        ]
    if method == "patch":
        operation["parameters"] = [RESPONSE_BEHAVIOR_PARAMETER]
    # A service may describe more of itself: {method: {parameters, responses...}}.
    extra = getattr(service, "openapi", {}).get(method, {})
    for key, value in extra.items():
        operation[key] = {**operation[key], **value} if isinstance(value, dict) and key in operation else value
    body = _body_schema(arguments)
    if body is not None:
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return operation


def _string(pattern=None):
    return {"type": "string", "pattern": pattern} if pattern else {"type": "string"}


def _path_item(service):
    item = {}
    names = PATH_PARAMETER.findall(service.path)
    patterns = getattr(service, "path_patterns", {})
    if names:
        item["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": _string(patterns.get(name))} for name in names
        ]
    for method, _view, arguments in service.definitions:
        item[method.lower()] = _operation(service, method.lower(), arguments)
    return item


def openapi_document(registry, server_url):
    paths = {}
    for service in sorted(registry.cornice_services.values(), key=lambda s: s.path):
        paths[service.path] = _path_item(service)
    return {
        "openapi": "3.0.3",
        "info": {"title": "kinto_server", "version": __version__, "description": "A Kinto-compatible storage API."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}, **registry.openapi_security_schemes},
        },
        "security": [{"basicAuth": []}, *({name: []} for name in registry.openapi_security_schemes), {}],
    }


@api.get()
def get_api(request):
    return json_response(openapi_document(request.registry, request.application_url + "/v1"))


def includeme(config):
    config.add_cornice_service(api)
