"""The accounts plugin: user accounts with bcrypt-hashed passwords, the
``account`` authentication policy (``account:<id>`` principals) and the
``/v1/accounts`` endpoints. Enable it with::

    kinto.includes = kinto_server.plugins.accounts
    kinto.multiauth.policies = account basicauth
"""

from kinto_server.plugins.accounts.policy import AccountSource


def includeme(config):
    registry = config.registry
    registry.authentication_sources["account"] = AccountSource
    registry.root_permissions_extra["account:create"] = registry.settings["account_create_principals"]
    registry.capabilities["accounts"] = {
        "description": "Manage user accounts.",
        "url": "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html",
        "validation_enabled": False,
    }
    config.include("kinto_server.plugins.accounts.views")
