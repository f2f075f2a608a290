"""Differential replay: the same requests to Kinto 26.5 and to this server.

    python bench/compat                       # both backends (make compat)
    python bench/compat --backend memory --only 'records|batch'
    python bench/compat --show-known          # also print accepted differences
    python bench/compat --stage clients       # only kinto-http.py's functional tests

Kinto runs from PyPI in bench/kinto-venv (installed on first use, never a
project dependency); both servers get the same settings. Every step of
corpus.py goes to both, their answers are normalised (normalise.py), and
each difference of status, header or body is printed, except those listed
in known.py, which the README lists under "Differences from Kinto". Then
kinto-http.py's own functional tests run against this server (clients.py).
Exits with 1 when an unexplained difference or an unexpected test outcome
is found.
"""

import argparse
import hashlib
import hmac
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]

import requests  # noqa: E402
from clients import run_client_suite  # noqa: E402
from corpus import (  # noqa: E402
    changes,
    corpus,
    counters,
    history_settings,
    openid,
    operations,
    record_caching,
    response_behavior,
    user_data,
)
from known import explain  # noqa: E402
from normalise import differences, normalise  # noqa: E402
from servers import SECRET, Server  # noqa: E402
from steps import USERS  # noqa: E402

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OpenIDProvider  # noqa: E402

PROFILE = """
kinto.includes = kinto.plugins.default_bucket kinto.plugins.accounts kinto.plugins.history kinto.plugins.flush
multiauth.policies = account basicauth
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.bucket_create_principals = system.Authenticated
kinto.account_create_principals = system.Everyone
kinto.account_read_principals = account:admin
kinto.account_write_principals = account:admin
kinto.experimental_permissions_endpoint = true
kinto.experimental_collection_schema_validation = true
kinto.batch_max_requests = 25
"""


def basicauth_id(user):
    """The user id Basic Auth gives ``user`` on both servers."""
    digest = hmac.new(SECRET.encode(), USERS[user].encode(), hashlib.sha256).hexdigest()
    return f"basicauth:{digest}"


# Each run: a name, the settings added to PROFILE, the steps replayed.
RUNS = [
    ("", "", corpus),
    ("read-only", "kinto.readonly = true\nkinto.backoff = 30\nkinto.retry_after_seconds = 7", operations),
    (
        "end of service ahead",
        "kinto.eos = 2099-01-01\nkinto.eos_message = Moving\nkinto.eos_url = http://example.com/eos",
        operations,
    ),
    ("end of service passed", "kinto.eos = 2000-01-01\nkinto.eos_message = Gone", operations),
    (
        "kinto-changes",
        "kinto.includes = kinto.plugins.default_bucket kinto.plugins.accounts kinto_changes\n"
        "kinto.changes.resources = /buckets/watched /buckets/hidden/collections/secret\n"
        "kinto.http_host = compat.example.com",
        changes,
    ),
    (
        "response-behavior",
        "kinto.includes = kinto.plugins.default_bucket kinto.plugins.accounts kinto.plugins.flush",
        response_behavior,
    ),
    (
        "record caching",
        "kinto.record_cache_expires_seconds = 10\nkinto.cb.record_cache_expires_seconds = 20\n"
        "kinto.cb.precise.record_cache_expires_seconds = 40\nkinto.cb_plain_record_cache_expires_seconds = 99",
        record_caching,
    ),
    (
        "history settings",
        "kinto.history.auto_trim_max_count = 3\nkinto.history.auto_trim_threshold = 1\n"
        f"kinto.history.exclude_user_ids = {basicauth_id('bob')}\n"
        "kinto.history.exclude_resources = /buckets/silent /buckets/hs/collections/quiet",
        history_settings,
    ),
    (
        # Without the history plugin: with it, Kinto 26.5 answers 500 here.
        "user data",
        "kinto.includes = kinto.plugins.default_bucket kinto.plugins.accounts kinto.plugins.flush\n"
        f"kinto.user-data_delete_principals = {basicauth_id('admin')}",
        lambda: user_data(basicauth_id("bob")),
    ),
    (
        "counters",
        "kinto.includes = kinto.plugins.default_bucket kinto.plugins.accounts kinto.plugins.history"
        " kinto.plugins.counters",
        counters,
    ),
]


def openid_run(provider):
    """The run of kinto.plugins.openid, against the loopback provider."""
    settings = (
        "kinto.includes = kinto.plugins.openid kinto.plugins.default_bucket\n"
        "multiauth.policies = auth0 basicauth\n"
        "multiauth.policy.auth0.use = kinto.plugins.openid.OpenIDConnectPolicy\n"
        f"multiauth.policy.auth0.issuer = {provider.issuer}\n"
        f"multiauth.policy.auth0.client_id = {CLIENT_ID}\n"
        f"multiauth.policy.auth0.client_secret = {CLIENT_SECRET}"
    )
    return ("openid", settings, lambda: openid(provider))


def profile(settings):
    """PROFILE with the run's settings, which replace PROFILE's lines of
    the same keys (an ini file cannot hold a key twice)."""
    keys = {line.split("=")[0].strip() for line in settings.splitlines() if "=" in line}
    kept = [line for line in PROFILE.splitlines() if line.split("=")[0].strip() not in keys]
    return "\n".join(kept) + "\n" + settings


def replay(backend, run, steps, pattern, show_known, workdir):
    name, settings = run
    servers = [Server(kind, backend, workdir, profile=profile(settings)) for kind in ("kinto", "ours")]
    for server in servers:
        server.start()
    try:
        sessions = {server.kind: requests.Session() for server in servers}
        saved = {server.kind: {} for server in servers}
        unexplained = known = differing = 0
        for number, step in enumerate(steps, 1):
            answers = {}
            for server in servers:
                base = server.url + "/v1"
                response = step.send(sessions[server.kind], base, saved[server.kind])
                answers[server.kind] = normalise(response, base, step.compare_body, saved[server.kind])
            if pattern and not re.search(pattern, step.label):
                continue
            found = differences(answers["kinto"], answers["ours"])
            if not found:
                continue
            differing += 1
            lines = []
            for where, theirs, mine in found:
                reason = explain(step, where)
                if reason:
                    known += 1
                    if show_known:
                        lines.append(f"    {where}: kinto={theirs!r} ours={mine!r}  [known: {reason}]")
                else:
                    unexplained += 1
                    lines.append(f"    {where}: kinto={theirs!r} ours={mine!r}")
            if lines:
                print(f"[{backend}{' ' + name if name else ''}] #{number} {step.label}: {step.method} {step.path}")
                print("\n".join(lines))
        return len(steps), differing, unexplained, known
    finally:
        for server in servers:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("memory", "sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--only", help="regular expression on step labels to report")
    parser.add_argument("--show-known", action="store_true")
    parser.add_argument("--stage", choices=("replay", "clients", "all"), default="all")
    args = parser.parse_args()
    backends = ("memory", "sqlite", "postgresql") if args.backend == "all" else (args.backend,)
    problems = 0
    summary = []
    provider = OpenIDProvider().start()
    runs = [*RUNS, openid_run(provider)]
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            for name, settings, steps in runs if args.stage in ("replay", "all") else ():
                count, differing, unexplained, known = replay(
                    backend, (name, settings), steps(), args.only, args.show_known, workdir
                )
                problems += unexplained
                summary.append(
                    f"{backend}{' ' + name if name else ''}: {count} requests, {differing} answers differ; "
                    f"{unexplained} unexplained differences, {known} known (README)"
                )
            if args.stage in ("clients", "all"):
                line, failures = run_client_suite(backend, workdir)
                for failure in failures:
                    print(failure)
                problems += len(failures)
                summary.append(line)
    print("\n".join(summary))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
