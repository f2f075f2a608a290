"""The three ways to PATCH an object, by Content-Type:

- ``application/json``: the sent top-level ``data`` fields replace the stored ones;
- ``application/merge-patch+json`` (RFC 7396): ``data`` is merged recursively,
  ``null`` removing a field;
- ``application/json-patch+json`` (RFC 6902): a list of operations on
  ``{"data": ..., "permissions": {permission: {principal: ...}}}``, so that
  ``/permissions/read/<principal>`` adds or removes one principal.

``permissions`` sent with the first two formats replace the named permissions.
"""

import copy

import jsonpatch
import jsonpointer

from kinto_server.errors import invalid_parameters

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
FORMATS = (JSON, MERGE_PATCH, JSON_PATCH)


def merge_patch(target, patch):
    """RFC 7396: ``target`` with ``patch`` merged in (neither is modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _principal_operation(document, operation):
    """``add``/``remove`` of ``/permissions/<permission>/<principal>``: handled
    here since, as in Kinto, these need no ``value``. True if it was one."""
    parts = operation.get("path", "").split("/")
    if operation.get("op") not in ("add", "remove") or len(parts) != 4 or parts[1] != "permissions":
        return False
    permissions = document["permissions"]
    principals = permissions.get(jsonpointer.unescape(parts[2])) if isinstance(permissions, dict) else None
    if principals is None:
        raise invalid_parameters("body", None, f"JSON Patch operation failed: unknown permission {parts[2]!r}")
    if not isinstance(principals, dict):  # An earlier operation replaced it with something else.
        raise invalid_parameters("body", None, f"JSON Patch operation failed: {parts[2]!r} is not a set of principals")
    principal = jsonpointer.unescape(parts[3])
    if operation["op"] == "add":
        principals[principal] = True
    else:
        principals.pop(principal, None)
    return True


def json_patch(resource, obj, acl, operations):
    """Apply RFC 6902 ``operations``; return (data, permissions to store)."""
    document = {
        "data": copy.deepcopy(obj),
        "permissions": {perm: dict.fromkeys(acl.get(perm, ()), True) for perm in resource.permissions},
    }
    for operation in operations:
        if _principal_operation(document, operation):
            continue
        try:
            document = jsonpatch.apply_patch(document, [operation])
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, ValueError) as error:
            raise invalid_parameters("body", None, f"JSON Patch operation failed: {error}") from None
    data, permissions = document.get("data"), document.get("permissions")
    valid_permissions = (
        isinstance(permissions, dict)
        and not set(permissions) - set(resource.permissions)
        and all(isinstance(p, dict) for p in permissions.values())
    )
    if not isinstance(data, dict) or not valid_permissions:
        raise invalid_parameters("body", None, "JSON Patch operation failed: invalid data or permissions")
    return data, {perm: list(principals) for perm, principals in permissions.items()}


def patched(resource, obj, acl, body, patch_format):
    """(new data, permissions sent) for a PATCH body in ``patch_format``."""
    if patch_format == JSON_PATCH:
        return json_patch(resource, obj, acl, body["operations"])
    changes = body.get("data") or {}
    if patch_format == MERGE_PATCH:
        return merge_patch(obj, changes), body.get("permissions")
    return {**obj, **changes}, body.get("permissions")
