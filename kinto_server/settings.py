"""Every setting the server reads, with its default and its converter.

Settings come from the ``kinto.*`` keys of the ini file (the prefix is
optional) and can be overridden by environment variables: ``KINTO_<NAME>``
first, then ``<NAME>``, the name upper-cased with dots turned into
underscores. Each key is converted by an explicit converter; a value that
cannot be converted stops the start-up with a clear message.
"""

import difflib
import os
import re

PREFIX = "kinto."


class ConfigurationError(ValueError):
    """A setting has a value the server cannot use."""


class SchemaOutdated(ConfigurationError):
    """A database schema needs ``kinto_server migrate``."""

    def __init__(self, role, pending, ini=None):
        command = "kinto_server migrate" + (f" --ini {ini}" if ini else "")
        super().__init__(f"The {role} database schema is not up to date ({pending}): run `{command}`")
        self.role, self.pending = role, pending

    def for_ini(self, ini):
        return SchemaOutdated(self.role, self.pending, ini)


def as_bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def as_int(value):
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def as_float(value):
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def as_optional_int(value):
    if value is None or str(value).strip().lower() in ("", "none", "null"):
        return None
    return as_int(value)


def as_list(value):
    """Split on commas and whitespace, as Pyramid's ``aslist`` does on lines."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part for part in str(value).replace(",", " ").split() if part]


def as_str(value):
    return "" if value is None else str(value)


def as_optional_str(value):
    if value is None or str(value).strip() == "":
        return None
    return str(value)


# The secrets of the example ini files shipped in config/: public, so a
# server started with one of them gets a warning (tests/unit/test_settings.py
# checks this list against the files). `kinto_server init` writes a new one.
EXAMPLE_SECRETS = frozenset(
    {
        "5b2f6e1f3f0e4c7a9d8b1a2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",
        "0c7f3d1a9e5b4f2a8d6c1e3b5a7f9d2c4e6a8b0d1f3e5c7a9b2d4f6e8a0c1e3b",
    }
)

# name -> (default, converter). Names follow Kinto's so existing ini files work.
DEFAULTS = {
    "project_name": ("kinto", as_str),
    "project_docs": ("https://kinto.readthedocs.io/", as_str),
    "http_api_version": ("1.23", as_str),
    "storage_backend": ("memory", as_str),
    "storage_url": ("", as_str),
    "storage_pool_size": (25, as_int),
    "storage_max_overflow": (5, as_int),
    "storage_pool_recycle": (-1, as_int),
    "storage_pool_timeout": (30, as_int),
    # Server-side prepared statements; off behind a pooler that shares
    # sessions between clients (PgBouncer in transaction mode).
    "storage_prepared_statements": (True, as_bool),
    "storage_max_fetch_size": (10000, as_int),
    "permission_backend": ("memory", as_str),
    "permission_url": ("", as_str),
    "cache_backend": ("memory", as_str),
    "cache_url": ("", as_str),
    # Shared caches (redis, memcached), with Kinto's names.
    "cache_hosts": ("", as_str),
    "cache_prefix": ("", as_str),
    "cache_pool_size": (25, as_int),
    "cache_pool_timeout": (30, as_int),
    "cache_socket_timeout_seconds": (5.0, as_float),
    "userid_hmac_secret": ("", as_str),
    "default_bucket_hmac_secret": ("", as_str),
    "bucket_create_principals": (["system.Authenticated"], as_list),
    "includes": ([], as_list),
    "multiauth.policies": (["basicauth"], as_list),
    "readonly": (False, as_bool),
    # How long clients may cache GET /v1/ of a read-only server.
    "root_cache_expires_seconds": (86400, as_int),
    "paginate_by": (None, as_optional_int),
    "pagination_token_validity_seconds": (600, as_int),
    "batch_max_requests": (25, as_int),
    "cors_origins": (["*"], as_list),
    "cors_max_age_seconds": (3600, as_optional_int),
    "backoff": (None, as_optional_int),
    "retry_after_seconds": (3, as_int),
    "eos": (None, as_optional_str),
    "eos_message": (None, as_optional_str),
    "eos_url": (None, as_optional_str),
    "http_host": (None, as_optional_str),
    "http_scheme": (None, as_optional_str),
    "version_json_path": ("version.json", as_str),
    # kinto.plugins.admin: a folder of another admin build to serve (kinto-admin's), instead of ours.
    "admin_assets_path": ("", as_str),
    # Metrics (prometheus and statsd plugins): the URL ids that label requests.
    "metrics_matchdict_fields": (["bucket_id", "collection_id", "group_id", "record_id"], as_list),
    "prometheus_prefix": ("kinto", as_str),
    "prometheus_disabled_metrics": ([], as_list),
    "prometheus_histogram_buckets": (["0.01", "0.05", "0.1", "0.5", "1.0", "3.0", "6.0", "Inf"], as_list),
    "prometheus_created_metrics_enabled": (True, as_bool),
    "statsd_url": (None, as_optional_str),
    # How long /__heartbeat__ waits for a backend before reporting it false.
    "heartbeat_timeout_seconds": (10.0, as_float),
    "experimental_collection_schema_validation": (False, as_bool),
    "experimental_permissions_endpoint": (False, as_bool),
    # Limits on what a request may send (robustness; Kinto has none of these).
    "max_request_body_bytes": (1024 * 1024, as_int),
    "max_json_depth": (64, as_int),
    "max_id_length": (1024, as_int),
    "max_sort_fields": (10, as_int),  # fields in one _sort
    "max_filter_values": (10000, as_int),  # values in one in_/exclude_/contains_ filter, and filters in a query
    # Accounts plugin.
    "account_create_principals": (["system.Everyone"], as_list),
    "account_write_principals": ([], as_list),
    "account_read_principals": ([], as_list),
    "account_cache_ttl_seconds": (30, as_int),
    "account_hash_rounds": (12, as_int),
    # Password checks (bcrypt) that may fail per client address and window; 0: no bound.
    "account_login_failures_limit": (10, as_int),
    "account_login_failures_window_seconds": (60, as_int),
    # Who may DELETE /v1/__user_data__/<principal> (nobody by default).
    "user-data_delete_principals": ([], as_list),
    # Flush plugin (test servers only).
    "flush_endpoint_enabled": (True, as_bool),
    # History plugin: objects (bucket, collection or object URIs) and users
    # whose changes are not recorded, and the trim (a positive max count
    # turns it on) by resource name, or by resource name and user.
    "history.exclude_resources": ([], as_list),
    "history.exclude_user_ids": ([], as_list),
    "history.auto_trim_max_count": (-1, as_int),
    "history.auto_trim_user_ids": ([], as_list),
    "history.auto_trim_threshold": (100, as_int),
    # Changes overview (kinto-changes' names).
    "changes.resources": ([], as_list),
    "changes.excluded_collections": ([], as_list),
    "changes.http_host": (None, as_optional_str),
    "changes.since_max_age_days": (21, as_int),
    "changes.since_max_age_redirect_ttl_seconds": (86400, as_int),
    # Live change stream (kinto_server.plugins.stream).
    "changes.stream.listen": (None, as_optional_str),
    "changes.stream.url": (None, as_optional_str),
    "changes.stream.heartbeat_seconds": (15.0, as_float),
    "changes.stream.retry_milliseconds": (3000, as_int),
    "changes.stream.max_per_user": (20, as_int),
    "changes.stream.max_per_process": (10000, as_int),
    "changes.stream.max_seconds": (3600.0, as_float),
    "changes.stream.recheck_seconds": (60.0, as_float),
    "changes.stream.ticket_seconds": (60, as_int),
    "changes.stream.retention_hours": (168.0, as_float),
    "changes.stream.poll_seconds": (0.25, as_float),
}


# What each converter expects, for the message of a value it refuses.
EXPECTED = {
    as_bool: "true or false",
    as_int: "an integer",
    as_float: "a number",
    as_optional_int: "an integer, or none",
}

# Kinto 26.5's settings that this server reads under other names or not at
# all (sentry, newrelic, profiler...): never "unknown".
KINTO_SETTINGS = frozenset(
    [
        "backoff_percentage",
        "cache_max_size_bytes",
        "error_info_link",
        "event_listeners",
        "explicit_permissions",
        "id_generator",
        "initialization_sequence",
        "json_renderer",
        "multiauth.authorization_policy",
        "multiauth.groupfinder",
        "newrelic_config",
        "newrelic_env",
        "profiler_dir",
        "profiler_enabled",
        "project_version",
        "sentry_breadcrumbs_min_level",
        "sentry_dsn",
        "sentry_env",
        "sentry_events_min_level",
        "settings_prefix",
        "statsd_backend",
        "statsd_prefix",
        "tm.annotate_user",
        "trailing_slash_redirect_enabled",
        "trailing_slash_redirect_ttl_seconds",
        "transaction_per_request",
        "version_prefix_redirect_enabled",
        "version_prefix_redirect_ttl_seconds",
        "storage_max_backlog",
        "storage_pool_maxconn",
        "permission_pool_size",
        "permission_max_overflow",
        "permission_pool_recycle",
        "permission_pool_timeout",
        "permission_max_backlog",
        "cache_max_overflow",
        "cache_pool_recycle",
        "cache_max_backlog",
        "storage_strict_json",
        "logging_renderer",
    ]
)
# Families of names: per-resource principals, per-bucket or per-collection
# cache expiries, each listener's and each policy's options, plugins' own.
KNOWN_PATTERNS = re.compile(
    r"^(\w+_(create|read|write)_principals"
    r"|.+_record_cache_(expires|maximum_expires)_seconds|.+\.record_cache_(expires|maximum_expires)_seconds"
    r"|event_listeners\..+|multiauth\..+|changes\..+|history\..+|attachment\..+|signer\..+|emailer\..+)$"
)


def unknown_settings(raw_settings):
    """``(key, closest known key or None)`` for each ``kinto.*`` key that no
    part of the server (nor Kinto) reads: a typo would otherwise go unseen."""
    known = set(DEFAULTS) | KINTO_SETTINGS
    found = []
    for key in raw_settings:
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        if name in known or KNOWN_PATTERNS.match(name):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        found.append((key, PREFIX + close[0] if close else None))
    return found


def _environment_value(name, environ):
    env_name = name.upper().replace(".", "_")
    for candidate in ("KINTO_" + env_name, env_name):
        if candidate in environ:
            return environ[candidate]
    return None


def load(raw_settings, environ=None):
    """Return the typed settings dictionary, keyed without the ``kinto.`` prefix.

    Unknown keys are kept as they are (plugins read their own). Raises
    :class:`ConfigurationError` naming the key when a value is invalid.
    """
    environ = os.environ if environ is None else environ
    raw = {}
    for key, value in raw_settings.items():
        name = key[len(PREFIX) :] if key.startswith(PREFIX) else key
        raw[name] = value

    settings = dict(raw)
    for name, (default, convert) in DEFAULTS.items():
        value = raw.get(name, default)
        from_env = _environment_value(name, environ)
        if from_env is not None:
            value = from_env
        try:
            settings[name] = convert(value)
        except (TypeError, ValueError) as error:
            expected = EXPECTED.get(convert)
            detail = f"{value!r} (expected {expected})" if expected else str(error)
            raise ConfigurationError(f"Invalid value for setting {PREFIX}{name}: {detail}") from None
    return settings
