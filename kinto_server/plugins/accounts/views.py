"""``/v1/accounts`` and ``/v1/accounts/{id}``.

Anyone in ``account_create_principals`` may create an account; an account's
owner (``account:<id>``, always among its writers) and the administrators in
``account_write_principals`` may read, change and delete it; those in
``account_read_principals`` may read every account, and an account's own
``read``/``write`` permissions (set in bodies, as on any object) grant more.
Lists show administrators and readers every account, others their own.
Responses never include the password, not even hashed.
"""

import re

from cornice import Service

from kinto_server.authentication import basic_credentials
from kinto_server.errors import cornice_errors_to_response, invalid_object_id, invalid_parameters
from kinto_server.plugins.accounts.passwords import hash_password
from kinto_server.plugins.accounts.policy import ACCOUNT_PREFIX, PARENT_ID, RESOURCE_NAME
from kinto_server.resources import acl, lists, patching, preconditions
from kinto_server.resources.access import forbidden
from kinto_server.resources.objects import Outcome, require_changes
from kinto_server.resources.target import not_found
from kinto_server.resources.tree import ObjectRef, ResourceType
from kinto_server.storage import ObjectExistsError
from kinto_server.views.rendering import exposes, render
from kinto_server.views.schemas import body_validator

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


def _acl(request, account_id):
    return request.registry.permission.get_object_permissions(object_uri=_ace_uri(account_id))


def _can(request, account_id, permission):
    if _principals_in(request, "account_write_principals"):
        return True
    if permission == "read" and _principals_in(request, "account_read_principals"):
        return True
    held = _acl(request, account_id)
    allowed = held.get("write", set()) | (held.get("read", set()) if permission == "read" else set())
    return not request.principals.isdisjoint(allowed)


def _stored(request, account_id):
    found = request.registry.storage.get_many(
        keys=[(RESOURCE_NAME, PARENT_ID, account_id)], lock_lineage=request.method not in ("GET", "HEAD")
    )
    return found.get((RESOURCE_NAME, PARENT_ID, account_id))


_validate_body = body_validator(ACCOUNT)


def password_problem(data):
    """Why ``data`` has no usable password, in Kinto's words, or None."""
    password = data.get("password")
    if not password and password != 0:
        return "Required"
    if not isinstance(password, str):
        return f"{password} is not a string: {{'password': ''}}"
    return None


def validate_account_body(request, **kwargs):
    """The body as for any object (``data``, ``permissions`` read/write, the
    PATCH formats); PUT and POST must carry a password."""
    _validate_body(request)
    if request.errors or request.method == "PATCH":
        return
    data = request.validated["body"].get("data")
    if data is None:
        request.errors.add("body", "data", "Required")
        return
    problem = password_problem(data)
    if problem:
        request.errors.add("body", "data.password", problem)


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


def _write(request, account_id, data, existing, sent_permissions=None, replace_permissions=False):
    settings = request.registry.settings
    stored = {k: v for k, v in data.items() if k not in ("id", "last_modified")}
    if "password" in data:
        stored["password"] = hash_password(data["password"], settings["account_hash_rounds"])
    elif existing is not None:
        stored["password"] = existing["password"]
    stored["id"] = account_id
    storage = request.registry.storage
    existing_acl = _acl(request, account_id) if existing is not None else {}
    # The owner always keeps write, whoever writes (Kinto's rule for accounts).
    owner = ACCOUNT_PREFIX + account_id
    changes = acl.merged_permissions(ACCOUNT, sent_permissions, existing_acl, replace_permissions, owner)
    if existing is None:
        try:
            new = storage.create(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, obj=stored)
        except ObjectExistsError:
            raise preconditions.modified_meanwhile() from None
    else:
        new = storage.update(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=account_id, obj=stored)
    permissions = acl.stored_after(existing_acl, changes)
    if permissions != existing_acl:
        request.registry.permission.replace_object_permissions(object_uri=_ace_uri(account_id), permissions=changes)
    shown = {perm: sorted(p) for perm, p in sorted(permissions.items())}
    return Outcome(_shown(new), shown, status=201 if existing is None else 200, timestamp=new["last_modified"])


def _create(request, account_id, data, sent_permissions):
    if not _principals_in(request, "account_create_principals") and not _principals_in(
        request, "account_write_principals"
    ):
        raise forbidden(request)
    return _write(request, _checked_new_id(request, account_id), data, None, sent_permissions)


@accounts.post(validators=(validate_account_body,))
def create_account(request):
    body = request.validated["body"]
    data = body["data"]
    account_id = data.get("id")
    if isinstance(account_id, str) and _stored(request, account_id) is not None:
        # Only its owner and the administrators learn that an account exists.
        if not _can(request, account_id, "write"):
            raise forbidden(request)
        raise invalid_parameters("body", "data.id", "Account ID already exists.")
    return render(request, _create(request, account_id, data, body.get("permissions")))


def _own_ids(request, *all_for):
    """None when the caller is in one of the ``all_for`` settings (it reaches
    every account), else the id of its own account (if it has one)."""
    if request.authenticated_userid is None:
        raise forbidden(request)
    if any(_principals_in(request, setting) for setting in all_for):
        return None
    user_id = request.authenticated_userid
    return {user_id[len(ACCOUNT_PREFIX) :]} if user_id.startswith(ACCOUNT_PREFIX) else set()


@accounts.get()
def list_accounts(request):
    listed = _own_ids(request, "account_read_principals", "account_write_principals")
    outcome = lists.list_page(request, RESOURCE_NAME, PARENT_ID, listed, count=request.method == "HEAD")
    outcome.data = [_shown(a) for a in outcome.data]
    return render(request, outcome)


@accounts.delete()
def delete_accounts(request):
    doomed = _own_ids(request, "account_write_principals")
    return render(request, lists.delete_page(request, RESOURCE_NAME, PARENT_ID, doomed, lambda t: _forget(request, t)))


def _forget(request, tombstone):
    """After an account is deleted: its ACEs go, and so does its principal
    everywhere, so whoever creates an account of that name later starts with
    nothing."""
    permission = request.registry.permission
    permission.delete_object_permissions(object_uri=_ace_uri(tombstone["id"]))
    permission.remove_principal(principal=ACCOUNT_PREFIX + tombstone["id"])


def delete_stored_account(request, account_id):
    """Delete the account and forget it (``__user_data__`` too); return its
    tombstone. Raise ObjectNotFoundError if there is none."""
    tombstone = request.registry.storage.delete(resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=account_id)
    _forget(request, tombstone)
    return tombstone


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
    permissions = {perm: sorted(p) for perm, p in sorted(_acl(request, existing["id"]).items())}
    return render(request, Outcome(_shown(existing), permissions, timestamp=existing["last_modified"]))


def _id_matches(data, account_id):
    if data.get("id", account_id) != account_id:
        raise invalid_parameters("body", "id", "Object id does not match existing object")


@account.put(validators=(validate_account_body,))
def put_account(request):
    account_id = request.matchdict["id"]
    body = request.validated["body"]
    _id_matches(body["data"], account_id)
    if ACCOUNT_ID.fullmatch(account_id) and _stored(request, account_id) is None:
        return render(request, _create(request, account_id, body["data"], body.get("permissions")))
    existing = _existing(request, account_id, "write")
    outcome = _write(request, account_id, body["data"], existing, body.get("permissions"), replace_permissions=True)
    return render(request, outcome)


@account.patch(validators=(validate_account_body,))
def patch_account(request):
    account_id = request.matchdict["id"]
    body, patch_format = request.validated["body"], request.validated["patch_format"]
    require_changes(body, patch_format)
    existing = _existing(request, account_id, "write")
    shown = _shown(existing)
    data, sent_permissions = patching.patched(ACCOUNT, shown, _acl(request, account_id), body, patch_format)
    _id_matches(data, account_id)
    if "password" in data:  # Sent: the stored hash is never in ``shown``.
        problem = password_problem(data)
        if problem:
            raise invalid_parameters("body", "password", problem)  # Kinto names it so on PATCH.
    return render(request, _write(request, account_id, data, existing, sent_permissions))


@account.delete()
def delete_account(request):
    account_id = request.matchdict["id"]
    _existing(request, account_id, "write")
    tombstone = delete_stored_account(request, account_id)
    return render(request, Outcome(tombstone, None, timestamp=tombstone["last_modified"]))


def includeme(config):
    config.add_cornice_service(accounts)
    config.add_cornice_service(account)
