"""``/v1/accounts`` and ``/v1/accounts/{id}``.

Anyone in ``account_create_principals`` may create an account; an account's
owner (``account:<id>``) and the administrators in
``account_write_principals`` may read, change and delete it; those in
``account_read_principals`` may read every account. Responses never include
the password, not even hashed.
"""

import re

from cornice import Service

from kinto_server.authentication import basic_credentials
from kinto_server.errors import cornice_errors_to_response, invalid_object_id, invalid_parameters
from kinto_server.plugins.accounts.passwords import hash_password
from kinto_server.plugins.accounts.policy import ACCOUNT_PREFIX, PARENT_ID, RESOURCE_NAME
from kinto_server.resources import preconditions, querystring
from kinto_server.resources.access import forbidden
from kinto_server.resources.lists import fetcher, paged
from kinto_server.resources.objects import Outcome
from kinto_server.resources.target import not_found
from kinto_server.resources.tree import ObjectRef, ResourceType
from kinto_server.storage import ObjectExistsError
from kinto_server.views.rendering import exposes, render
from kinto_server.views.schemas import parse_json_body

ACCOUNT_ID = re.compile(r"^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$")
ACCOUNT = ResourceType("account", "accounts", None, ("read", "write"), None)

accounts = Service(name="accounts", path="/accounts", error_handler=cornice_errors_to_response)
account = Service(name="account", path="/accounts/{id}", error_handler=cornice_errors_to_response)
account.path_patterns = {"id": ACCOUNT_ID.pattern}  # Read by the OpenAPI description.
exposes(accounts, listing=True)
exposes(account, listing=False)


def _principals_in(request, setting):
    return not request.principals.isdisjoint(request.registry.settings[setting])


def _shown(obj):
    return {k: v for k, v in obj.items() if k != "password"}


def _ace_uri(account_id):
    return ObjectRef(ACCOUNT, (account_id,)).uri


def _can(request, account_id, permission):
    if _principals_in(request, "account_write_principals"):
        return True
    if permission == "read" and _principals_in(request, "account_read_principals"):
        return True
    acl = request.registry.permission.get_object_permissions(object_uri=_ace_uri(account_id))
    return not request.principals.isdisjoint(acl.get("write", ()))


def _stored(request, account_id):
    found = request.registry.storage.get_many(
        keys=[(RESOURCE_NAME, PARENT_ID, account_id)], lock_lineage=request.method not in ("GET", "HEAD")
    )
    return found.get((RESOURCE_NAME, PARENT_ID, account_id))


def validate_account_body(request, **kwargs):
    body = parse_json_body(request)
    if request.errors:
        return
    body = body if body is not None else {}
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        request.errors.add("body", "data", "Required")
        return
    password = data.get("password")
    password_needed = request.method != "PATCH" or "password" in data
    if password_needed and (not isinstance(password, str) or not password):
        request.errors.add("body", "data.password", "Required")
        return
    request.validated["data"] = data


def _checked_new_id(request, account_id):
    """The id of an account being created, checked against the credentials."""
    if account_id is None:
        if request.authenticated_userid is not None:
            raise invalid_parameters("body", "data.id", "Accounts must have an ID.")
        raise invalid_parameters("body", "data.id", "data.id in body: Required")  # Kinto's wording.
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise invalid_object_id()
    credentials = basic_credentials(request)
    is_admin = _principals_in(request, "account_write_principals")
    if credentials is not None and not is_admin and credentials[0] != account_id:
        raise invalid_parameters("body", "data.id", "Username and account ID do not match.")
    return account_id


def _write(request, account_id, data, existing):
    settings = request.registry.settings
    stored = {k: v for k, v in data.items() if k not in ("id", "last_modified")}
    if "password" in data:
        stored["password"] = hash_password(data["password"], settings["account_hash_rounds"])
    elif existing is not None:
        stored["password"] = existing["password"]
    stored["id"] = account_id
    storage = request.registry.storage
    if existing is None:
        try:
            new = storage.create(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, obj=stored)
        except ObjectExistsError:
            raise preconditions.modified_meanwhile() from None
        owner = {"write": {ACCOUNT_PREFIX + account_id}}
        request.registry.permission.replace_object_permissions(object_uri=_ace_uri(account_id), permissions=owner)
    else:
        new = storage.update(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=account_id, obj=stored)
    acl = request.registry.permission.get_object_permissions(object_uri=_ace_uri(account_id))
    permissions = {perm: sorted(p) for perm, p in acl.items()}
    return Outcome(_shown(new), permissions, status=201 if existing is None else 200, timestamp=new["last_modified"])


def _create(request, account_id, data):
    if not _principals_in(request, "account_create_principals") and not _principals_in(
        request, "account_write_principals"
    ):
        raise forbidden(request)
    return _write(request, _checked_new_id(request, account_id), data, None)


@accounts.post(validators=(validate_account_body,))
def create_account(request):
    data = request.validated["data"]
    account_id = data.get("id")
    if isinstance(account_id, str) and _stored(request, account_id) is not None:
        # Only its owner and the administrators learn that an account exists.
        if not _can(request, account_id, "write"):
            raise forbidden(request)
        raise invalid_parameters("body", "data.id", "Account ID already exists.")
    return render(request, _create(request, account_id, data))


@accounts.get()
def list_accounts(request):
    if request.authenticated_userid is None:
        raise forbidden(request)
    query = querystring.parse(request.GET, request.registry.settings)
    object_ids = None
    if not _principals_in(request, "account_read_principals") and not _principals_in(
        request, "account_write_principals"
    ):
        user_id = request.authenticated_userid
        object_ids = {user_id[len(ACCOUNT_PREFIX) :]} if user_id.startswith(ACCOUNT_PREFIX) else set()

    fetch = fetcher(request.registry.storage.list_all, RESOURCE_NAME, PARENT_ID, query, object_ids)
    found, headers = paged(request, query, fetch)
    timestamp = request.registry.storage.resource_timestamp(resource_name=RESOURCE_NAME, parent_id=PARENT_ID)
    return render(request, Outcome([_shown(a) for a in found], None, timestamp=timestamp, headers=headers))


def _existing(request, account_id, permission):
    """The stored account, after checking the caller may ``permission`` it."""
    if not ACCOUNT_ID.fullmatch(account_id):
        raise invalid_object_id()
    existing = _stored(request, account_id)
    if not _can(request, account_id, permission):
        raise forbidden(request)
    if existing is None:
        raise not_found(ObjectRef(ACCOUNT, (account_id,)))
    preconditions.check(request, existing["last_modified"], existing=_shown(existing))
    return existing


@account.get()
def get_account(request):
    existing = _existing(request, request.matchdict["id"], "read")
    acl = request.registry.permission.get_object_permissions(object_uri=_ace_uri(existing["id"]))
    permissions = {perm: sorted(p) for perm, p in acl.items()}
    return render(request, Outcome(_shown(existing), permissions, timestamp=existing["last_modified"]))


@account.put(validators=(validate_account_body,))
def put_account(request):
    account_id = request.matchdict["id"]
    data = request.validated["data"]
    if data.get("id", account_id) != account_id:
        raise invalid_parameters("body", "id", "Object id does not match existing object")
    if ACCOUNT_ID.fullmatch(account_id) and _stored(request, account_id) is None:
        return render(request, _create(request, account_id, data))
    existing = _existing(request, account_id, "write")
    return render(request, _write(request, account_id, data, existing))


@account.patch(validators=(validate_account_body,))
def patch_account(request):
    account_id = request.matchdict["id"]
    existing = _existing(request, account_id, "write")
    changes = request.validated["data"]
    if changes.get("id", account_id) != account_id:
        raise invalid_parameters("body", "id", "Object id does not match existing object")
    data = {**{k: v for k, v in existing.items() if k != "password"}, **changes}
    return render(request, _write(request, account_id, data, existing))


@account.delete()
def delete_account(request):
    account_id = request.matchdict["id"]
    _existing(request, account_id, "write")
    tombstone = request.registry.storage.delete(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=account_id)
    permission = request.registry.permission
    permission.delete_object_permissions(object_uri=_ace_uri(account_id))
    # Whoever creates an account of that name later starts with nothing.
    permission.remove_principal(principal=ACCOUNT_PREFIX + account_id)
    return render(request, Outcome(tombstone, None, timestamp=tombstone["last_modified"]))


def includeme(config):
    config.add_cornice_service(accounts)
    config.add_cornice_service(account)
