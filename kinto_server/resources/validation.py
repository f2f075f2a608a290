"""JSON schemas for objects, when ``experimental_collection_schema_validation``
is on (as in Kinto): a collection's ``schema`` validates its records (which
then carry the collection timestamp they were validated against in their
``schema`` field), and a bucket's ``record:schema``, ``collection:schema`` and
``group:schema`` validate the objects of that kind below it. Changing a schema
never touches the objects already stored.

Schemas never reach the network: a ``$ref`` may only point inside the schema
itself (``#...``). A remote one is refused when the schema is saved, and one
already stored (a database moved from Kinto) is never fetched: validating
against it fails with a 400 instead of the server requesting the URL.
"""

import functools

import jsonschema
import referencing
import referencing.exceptions
import ujson
from jsonschema import validators

from kinto_server.errors import invalid_parameters, not_a_mapping
from kinto_server.resources.tree import BUCKET, COLLECTION, RECORD

IGNORED_FIELDS = ("id", "last_modified", "schema")
BUCKET_SCHEMA_FIELDS = ("record:schema", "collection:schema", "group:schema")
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _refuse_retrieval(uri):
    raise referencing.exceptions.NoSuchResource(ref=uri)


# Resolves references inside each schema only; nothing is ever retrieved.
_OFFLINE = referencing.Registry(retrieve=_refuse_retrieval)


@functools.lru_cache(maxsize=256)
def _validator(schema_json):
    schema = ujson.loads(schema_json)
    return validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema, registry=_OFFLINE)


def _remote_reference(schema):
    """The first ``$ref`` of ``schema`` that points outside it, or None."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                # A string: under ``properties`` a "$ref" key names a field.
                if key in REFERENCE_KEYWORDS and isinstance(value, str) and not value.startswith("#"):
                    return value
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return None


def validator_for(schema):
    return _validator(ujson.dumps(schema, sort_keys=True))


def check_schema(field, schema):
    """400 unless ``schema`` is a valid JSON schema."""
    if not isinstance(schema, dict):
        raise invalid_parameters("body", f"data.{field}", not_a_mapping(schema))
    try:
        validators.validator_for(schema, default=jsonschema.Draft7Validator).check_schema(schema)
    except jsonschema.SchemaError as error:
        # Kinto's wording: the last key of the failing path, then the message.
        where = str(error.path[-1]) if error.path else ""
        raise invalid_parameters("body", f"data.{field}", where + error.message) from None
    remote = _remote_reference(schema)
    if remote is not None:
        message = f"Only references inside the schema (#...) are allowed, not {remote!r}"
        raise invalid_parameters("body", f"data.{field}", message)


def _error_name(error):
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = next((f for f in error.validator_value if f not in (error.instance or {})), "")
        return f"{path}.{missing}" if path else missing
    return path or str(error.validator)


def validate(schema, data):
    """400 naming the failing field unless ``data`` satisfies ``schema``."""
    instance = {k: v for k, v in data.items() if k not in IGNORED_FIELDS}
    try:
        error = jsonschema.exceptions.best_match(validator_for(schema).iter_errors(instance))
    except referencing.exceptions.Unresolvable as unresolvable:
        raise invalid_parameters("body", "data", f"The schema has an unresolvable reference: {unresolvable}") from None
    if error is not None:
        raise invalid_parameters("body", _error_name(error), error.message)


def validated(request, target, data):
    """``data`` checked against the schemas that apply to it; records also get
    their collection's timestamp in ``schema``. Raises 400 on failure."""
    if not request.registry.settings["experimental_collection_schema_validation"]:
        return data
    ref = target.ref
    if ref.resource is COLLECTION and "schema" in data:
        check_schema("schema", data["schema"])
    if ref.resource is BUCKET:
        for field in BUCKET_SCHEMA_FIELDS:
            if field in data:
                check_schema(field, data[field])
        return data
    bucket = target.stored(ref.lineage()[0]) or {}
    bucket_schema = bucket.get(f"{ref.resource.name}:schema")
    if bucket_schema:
        validate(bucket_schema, data)
    if ref.resource is RECORD:
        collection = target.stored(ref.parent) or {}
        if collection.get("schema"):
            validate(collection["schema"], data)
            data = {**data, "schema": collection["last_modified"]}
    return data


def includeme(config):
    if config.registry.settings["experimental_collection_schema_validation"]:
        config.registry.capabilities["schema"] = {
            "description": "Validates collection records with JSON schemas.",
            "url": "https://kinto.readthedocs.io/en/latest/api/1.x/collections.html#collection-json-schema",
        }
