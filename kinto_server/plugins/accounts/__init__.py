"""The accounts plugin: user accounts with bcrypt-hashed passwords, the
``account`` authentication policy (``account:<id>`` principals) and the
``/v1/accounts`` endpoints. Enable it with::

    kinto.includes = kinto_server.plugins.accounts
    kinto.multiauth.policies = account basicauth
"""

from kinto_server.plugins.accounts.policy import AccountSource


def permission_entry(uri, held):
    """The ``GET /v1/permissions`` entry of an account the caller holds an ACE
    on (its owner): write implies read, as Kinto lists it."""
    prefix = "/accounts/"
    if not uri.startswith(prefix) or "/" in uri[len(prefix) :]:
        return None
    account_id = uri[len(prefix) :]
    permissions = sorted(set(held) | ({"read"} if "write" in held else set()))
    return {
        "uri": uri,
        "resource_name": "account",
        "permissions": permissions,
        "id": account_id,
        "account_id": account_id,
    }


def includeme(config):
    registry = config.registry
    registry.permission_entries_extra.append(permission_entry)
    registry.authentication_sources["account"] = AccountSource
    registry.root_permissions_extra["account:create"] = registry.settings["account_create_principals"]
    registry.capabilities["accounts"] = {
        "description": "Manage user accounts.",
        "url": "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
        "validation_enabled": False,
    }
    config.include("kinto_server.plugins.accounts.views")
