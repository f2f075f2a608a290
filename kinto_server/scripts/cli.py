"""The ``kinto_server`` command: ``init``, ``migrate``, ``start``, ``backup``,
``import-kinto``, ``import``, ``index``, ``purge-deleted``, ``create-user``, ``flush-cache`` and ``version``."""

import argparse
import configparser
import errno
import secrets
import sys
from pathlib import Path

from kinto_server import __version__, backends
from kinto_server.backends import ROLES

TEMPLATE = Path(__file__).with_name("kinto.ini.template")


class CommandError(Exception):
    """A mistake the user can fix: printed as one line, exit code 1."""


def _read_ini(path):
    """The parsed ini file at ``path``, or a CommandError saying what is wrong."""
    path = Path(path)
    if not path.exists():
        raise CommandError(f"No such configuration file: {path} (write one with `kinto_server init --ini {path}`)")
    if path.is_dir():
        raise CommandError(f"Cannot read {path}: it is a folder")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as text:
            parser.read_file(text)
    except PermissionError:
        raise CommandError(f"Cannot read {path}: permission denied") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0]
        raise CommandError(f"{path} is not a valid ini file: {first}") from None
    if not parser.has_section("app:main"):
        raise CommandError(f"{path} has no [app:main] section")
    return parser


def cmd_init(args):
    path = Path(args.ini)
    if path.exists() and not args.force:
        print(f"{path} already exists (use --force to overwrite).", file=sys.stderr)
        return 1
    choices = backends.names()
    backend = args.backend
    if backend is None:
        answer = input(f"Which backend ({'/'.join(choices)})? [sqlite] ").strip() or "sqlite"
        if answer not in choices:
            print(f"Unknown backend {answer!r}: choose one of {', '.join(choices)}.", file=sys.stderr)
            return 2
        backend = answer
    chosen = backends.resolve("storage", {"storage_backend": backend})
    url = (args.database_url or chosen.default_url) if getattr(chosen, "needs_url", False) else ""
    text = TEMPLATE.read_text(encoding="utf-8").format(
        backend=backend,
        url=url,
        secret=secrets.token_hex(32),
        host=args.host,
        port=args.port,
        stream_port=args.port + 1,
        stream_host="localhost" if args.host in ("0.0.0.0", "::", "") else args.host,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path} ({backend} backends).")
    return 0


# waitress settings chosen for exposure to slow or hostile clients (see
# SECURITY.md), used when the ini does not set them: half-sent requests hold
# a connection but no thread, so allow many connections, and drop idle ones
# sooner than waitress's 120 s.
SERVER_DEFAULTS = {"connection_limit": "1000", "channel_timeout": "30"}


def cmd_start(args):
    """Serve the ini's application with waitress, as ``pserve`` would, with
    the port optionally overridden, in one process or several."""

    import waitress
    from pyramid.paster import get_app

    from kinto_server.logs import setup_logging

    if args.workers < 1:
        print("--workers must be at least 1.", file=sys.stderr)
        return 2
    if args.reload and args.workers > 1:
        print("--reload works with one worker only.", file=sys.stderr)
        return 2
    if args.reload:
        import hupper

        hupper.start_reloader("kinto_server.scripts.cli.main")
    server = _read_ini(args.ini)
    ini = str(Path(args.ini).resolve())
    setup_logging(ini)
    options = _server_options(server, ini, args.port)
    options.pop("use", None)
    for name, value in SERVER_DEFAULTS.items():
        options.setdefault(name, value)
    if args.port:
        options["port"] = str(args.port)
        options.pop("listen", None)
    port = options.get("port", "8080")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"[server:main] port = {port!r} in {args.ini}: expected a port number (1-65535)")
    if args.check:
        get_app(ini, "main")
        print(f"{args.ini}: the configuration is valid.")
        return 0
    if args.workers > 1:
        from kinto_server.scripts import workers

        local = _memory_roles(ini)
        if local:
            print(
                f"Several workers would each keep their own {', '.join(local)}: "
                "use PostgreSQL backends, or one worker.",
                file=sys.stderr,
            )
            return 2
        config = _app_settings(ini)
        streaming = "kinto_server.plugins.stream" in config["includes"]
        stream = config["changes.stream.listen"] if streaming else None, config["changes.stream.max_per_process"]
        try:
            return workers.serve(lambda: get_app(ini, "main"), options, args.workers, *stream)
        except (ValueError, OSError) as exc:
            print(f"Cannot serve: {exc}", file=sys.stderr)
            return 2
    app = get_app(ini, "main")
    try:
        waitress.serve(app, **options)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            host = options.get("host", "0.0.0.0")
            raise CommandError(
                f"Port {port} of {host} is already in use: stop what listens there, or start with --port <another>"
            ) from None
        raise
    return 0


# What ``kinto start`` passes to the ini: ``kinto init`` writes ``port = %(http_port)s``.
DEFAULT_HTTP_PORT = 8888


def _server_options(parser, ini, port=None):
    """The [server:main] options, with PasteDeploy's ``%(here)s`` and
    Kinto's ``%(http_port)s`` filled in."""
    if not parser.has_section("server:main"):
        return {}
    variables = {"here": str(Path(ini).parent), "__file__": ini, "http_port": str(port or DEFAULT_HTTP_PORT)}
    options = {}
    for name, raw in parser["server:main"].items():
        try:
            options[name] = configparser.BasicInterpolation().before_get(parser, "server:main", name, raw, variables)
        except configparser.Error as error:
            first = str(error).strip().splitlines()[0]
            raise CommandError(f"[server:main] {name} = {raw!r} in {ini}: {first}") from None
    return options


def cmd_migrate(args):
    """Create or upgrade the schema of every backend that has one."""
    from kinto_server.errors import BackendUnavailable

    _read_ini(args.ini)
    _, loaded = _backends(args.ini)
    with_schema = {role: backend for role, backend in loaded.items() if getattr(backend, "has_schema", False)}
    if not with_schema:
        print("No backend of this configuration has a schema (memory backends): nothing to migrate.")
        return 0
    try:
        for role, backend in with_schema.items():
            done = backend.migrate(dry_run=args.dry_run)
            verb = "would apply" if args.dry_run else "applied"
            for migration in done:
                print(f"{verb} {migration}")
            if not done:
                print(f"{role}: schema up to date")
    except BackendUnavailable as error:
        print(f"Cannot reach the database: {error}", file=sys.stderr)
        return 1
    return 0


def cmd_backup(args):
    """Copy the databases of the storage and permission backends while the
    server keeps serving (the cache holds nothing that cannot be recomputed)."""
    from kinto_server.errors import BackendUnavailable

    _read_ini(args.ini)
    _, loaded = _backends(args.ini)
    sources = {}  # one entry per database, with the roles it holds
    for role in ("storage", "permission"):
        source = loaded[role].backup_source()
        if source is None:
            print(f"{role}: {loaded[role].backup_advice}.", file=sys.stderr)
            continue
        sources.setdefault(id(source), (source, []))[1].append(role)
    if not sources:
        return 1
    out = Path(args.out)
    if len(sources) == 1:
        targets = [(out, *next(iter(sources.values())))]
    else:  # Several databases: one file each in the folder ``out``.
        out.mkdir(parents=True, exist_ok=True)
        targets = [(out / f"{'-'.join(roles)}.sqlite", source, roles) for source, roles in sources.values()]
    for target, source, roles in targets:
        if target.exists() and not args.force:
            print(f"{target} already exists (use --force to overwrite).", file=sys.stderr)
            return 1
        if not target.parent.is_dir():
            print(f"Cannot back up to {target}: there is no folder {target.parent}.", file=sys.stderr)
            return 1
        try:
            source.backup(target)
        except BackendUnavailable as error:
            print(f"Cannot back up {', '.join(roles)}: {error}", file=sys.stderr)
            return 1
        print(f"Backed up {', '.join(roles)} ({source.path}) to {target} ({target.stat().st_size} bytes).")
    return 0


def _backends(ini_path):
    """The settings and backends configured by an ini file."""

    config = _app_settings(ini_path)
    return config, {role: backends.load(role, config) for role in ("storage", "permission", "cache")}


def _app_settings(ini_path):
    """The application settings of an ini file, parsed and checked."""
    from pyramid.paster import get_appsettings

    from kinto_server import settings

    return settings.load(get_appsettings(str(Path(ini_path).resolve()), "main"))


def _memory_roles(ini_path):
    """The roles whose data would live inside each server process (a cache
    may: it only holds what can be recomputed)."""

    config = _app_settings(ini_path)
    shared = {role: getattr(backends.resolve(role, config), "shared_across_processes", False) for role in ROLES}
    return [role for role in ("storage", "permission") if not shared[role]]


def cmd_purge_deleted(args):
    """Remove the tombstones of ``resource`` older than ``max_age`` seconds."""
    import time

    _read_ini(args.ini)
    if args.max_age < 0:
        print("max-age-seconds must be zero or more.", file=sys.stderr)
        return 2
    _settings, found = _backends(args.ini)
    before = int((time.time() - args.max_age) * 1000)
    removed = 0
    for resource in args.resources:
        removed += found["storage"].purge_deleted(resource_name=resource, parent_id=None, before=before)
    print(f"Removed {removed} tombstone(s) older than {args.max_age} seconds.")
    storage = found["storage"]
    if storage.has_change_log:
        # The change stream's log too: a cursor from before then reads "reset".
        forgotten = storage.purge_changes(before)
        print(f"Removed {forgotten} change(s) of the change log older than {args.max_age} seconds.")
    return 0


def cmd_create_user(args):
    """Create an account, or reset its password (accounts plugin)."""
    import getpass

    from kinto_server.plugins.accounts.passwords import hash_password
    from kinto_server.plugins.accounts.policy import ACCOUNT_PREFIX, PARENT_ID, RESOURCE_NAME
    from kinto_server.plugins.accounts.views import ACCOUNT_ID

    _read_ini(args.ini)
    if not ACCOUNT_ID.fullmatch(args.username):
        print(f"Invalid username {args.username!r}.", file=sys.stderr)
        return 2
    password = args.password or getpass.getpass(f"Password for {args.username}: ")
    if not password:
        print("The password cannot be empty.", file=sys.stderr)
        return 2
    config, found = _backends(args.ini)
    if not getattr(found["storage"], "has_schema", False) and not getattr(
        backends.resolve("storage", config), "shared_across_processes", False
    ):
        raise CommandError(
            f"The storage backend of {args.ini} ({config['storage_backend']}) keeps nothing once this command "
            "ends: create the account through the API of the running server, or use sqlite or postgresql"
        )
    if not {"kinto.plugins.accounts", "kinto_server.plugins.accounts"} & set(config["includes"]):
        raise CommandError(
            f"{args.ini} does not enable the accounts plugin (kinto.includes = kinto.plugins.accounts): "
            "the account could not sign in"
        )
    hashed = hash_password(password, config["account_hash_rounds"])
    found["storage"].update(
        resource_name=RESOURCE_NAME, parent_id=PARENT_ID, object_id=args.username, obj={"password": hashed}
    )
    owner = {"write": [ACCOUNT_PREFIX + args.username]}
    found["permission"].replace_object_permissions(object_uri=f"/accounts/{args.username}", permissions=owner)
    print(f"Account {args.username!r} is ready.")
    return 0


def cmd_import_kinto(args):
    """Copy a Kinto PostgreSQL database's data (:mod:`.import_kinto`)."""
    from kinto_server.scripts import import_kinto

    _read_ini(args.ini)
    config, found = _backends(args.ini)
    kept = {role: getattr(backends.resolve(role, config), "shared_across_processes", False) for role in ROLES}
    for role in ("storage", "permission"):
        if not kept[role]:
            raise CommandError(
                f"The {role} backend of {args.ini} ({config[role + '_backend']}) keeps nothing once this command "
                "ends: import into sqlite or postgresql backends"
            )
    backends.check_schemas({role: found[role] for role in ("storage", "permission")})
    return import_kinto.run(args, found, CommandError)


def cmd_import(args):
    """Records from JSON lines into a collection (:mod:`.import_records`)."""
    from kinto_server.scripts import import_records

    _read_ini(args.ini)
    config, found = _backends(args.ini)
    if not getattr(backends.resolve("storage", config), "shared_across_processes", False):
        raise CommandError(
            f"The storage backend of {args.ini} ({config['storage_backend']}) keeps nothing once this command "
            "ends: import into sqlite or postgresql backends, or through the API of the running server"
        )
    backends.check_schemas({"storage": found["storage"]})
    return import_records.run(args, config, found["storage"], CommandError)


def cmd_index(args):
    """Declare (or drop) the data fields a collection's records are sorted
    and filtered by: the storage keeps indexes on them."""
    from kinto_server.storage import UnindexableField

    _read_ini(args.ini)
    config, found = _backends(args.ini)
    storage = found["storage"]
    backends.check_schemas({"storage": storage})
    if args.list:
        for resource_name, parent_id, field in storage.declared_indexes():
            print(f"{parent_id}: {field}" + ("" if resource_name == "record" else f" ({resource_name})"))
        return 0
    if not (args.bucket and args.collection and args.fields):
        raise CommandError("give --bucket, --collection and the fields to index (or --list)")
    if not getattr(storage, "has_schema", False):
        raise CommandError(
            f"The storage backend of {args.ini} ({config['storage_backend']}) has no index to keep: it sorts in memory"
        )
    parent_id = f"/buckets/{args.bucket}/collections/{args.collection}"
    for field in args.fields:
        try:
            if args.drop:
                storage.drop_index(resource_name="record", parent_id=parent_id, field=field)
                print(f"Dropped the index of {field!r} of {parent_id}.")
            else:
                storage.declare_index(resource_name="record", parent_id=parent_id, field=field)
                uses = f"sorts on it (_sort={field}, -{field}) and its equality filters read indexes"
                print(f"Indexed {field!r} of {parent_id}: {uses}.")
        except UnindexableField as refused:
            raise CommandError(f"Cannot index {refused}") from None
    return 0


def cmd_flush_cache(args):
    _read_ini(args.ini)
    _backends(args.ini)[1]["cache"].flush()
    print("Cache flushed.")
    return 0


def cmd_version(args):
    print(__version__)
    return 0


def parser():
    main_parser = argparse.ArgumentParser(prog="kinto_server", description="A Kinto-compatible storage server.")
    main_parser.add_argument("-v", "--verbose", action="store_true", help="show the traceback of a failure")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="Write a configuration file.")
    init.add_argument("--ini", default="config/kinto.ini", help="file to write (default: %(default)s)")
    init.add_argument(
        "--backend", choices=backends.names(), help="storage, permission and cache backend (asked if absent)"
    )
    init.add_argument(
        "--database-url",
        help="database URL (default: data/kinto.sqlite next to the ini, or the local kinto database on PostgreSQL)",
    )
    init.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    init.add_argument("--port", type=int, default=8888, help="port to listen on (default: %(default)s)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=cmd_init)

    start = commands.add_parser("start", help="Serve a configuration file.")
    start.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    start.add_argument("--reload", action="store_true", help="restart when the code changes")
    start.add_argument("--check", action="store_true", help="check the configuration, then exit (0 if it is valid)")
    start.add_argument("--port", type=int, help="port to listen on, instead of the file's")
    start.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default: %(default)s); use with PostgreSQL backends",
    )
    start.set_defaults(run=cmd_start)

    migrate = commands.add_parser("migrate", help="Create or upgrade the PostgreSQL schema.")
    migrate.add_argument("--ini", default="config/postgresql.ini", help="configuration file (default: %(default)s)")
    migrate.add_argument("--dry-run", action="store_true", help="only list the migrations that would run")
    migrate.set_defaults(run=cmd_migrate)

    backup = commands.add_parser("backup", help="Copy the database while the server runs (SQLite).")
    backup.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    backup.add_argument("out", help="file to write the copy to")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup.set_defaults(run=cmd_backup)

    imports = commands.add_parser("import-kinto", help="Copy the data of a Kinto PostgreSQL database.")
    imports.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    imports.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="Kinto's storage database (kinto.storage_url)"
    )
    imports.add_argument(
        "--permissions-from",
        dest="permissions_source",
        metavar="URL",
        help="Kinto's permission database, if not the same (kinto.permission_url)",
    )
    imports.set_defaults(run=cmd_import_kinto)

    records = commands.add_parser("import", help="Store records from JSON lines in a collection.")
    records.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    records.add_argument("--bucket", required=True, help="bucket id")
    records.add_argument("--collection", required=True, help="collection id (it must exist)")
    records.add_argument("file", nargs="?", default="-", help="one JSON record per line (default: standard input)")
    records.set_defaults(run=cmd_import)

    index = commands.add_parser("index", help="Index data fields a collection is sorted and filtered by.")
    index.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    index.add_argument("--bucket", help="bucket id")
    index.add_argument("--collection", help="collection id")
    index.add_argument("fields", nargs="*", metavar="field", help="data fields (dotted when nested: meta.rank)")
    index.add_argument("--drop", action="store_true", help="drop these fields' indexes instead")
    index.add_argument("--list", action="store_true", help="list the indexed fields")
    index.set_defaults(run=cmd_index)

    purge = commands.add_parser("purge-deleted", help="Remove old tombstones.")
    purge.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    purge.add_argument("resources", nargs="+", metavar="resource", help="resource names (record, collection...)")
    purge.add_argument("max_age", type=int, metavar="max-age-seconds", help="keep tombstones younger than this")
    purge.set_defaults(run=cmd_purge_deleted)

    create_user = commands.add_parser("create-user", help="Create an account or reset its password.")
    create_user.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    create_user.add_argument("-u", "--username", required=True, help="account id")
    create_user.add_argument("-p", "--password", help="password (asked if absent)")
    create_user.set_defaults(run=cmd_create_user)

    flush_cache = commands.add_parser("flush-cache", help="Empty the cache backend.")
    flush_cache.add_argument("--ini", default="config/kinto.ini", help="configuration file (default: %(default)s)")
    flush_cache.set_defaults(run=cmd_flush_cache)

    version = commands.add_parser("version", help="Print the version.")
    version.set_defaults(run=cmd_version)
    return main_parser


def main(argv=None):
    from kinto_server.settings import ConfigurationError, SchemaOutdated

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, ConfigurationError) as error:
        if args.verbose:
            raise
        if isinstance(error, SchemaOutdated) and getattr(args, "ini", None):
            error = error.for_ini(args.ini)
        print(f"kinto_server: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
