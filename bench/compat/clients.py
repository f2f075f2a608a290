"""kinto-http.py's own functional tests, run against this server.

kinto-http.py (the Python client) ships functional tests that expect a
Kinto on http://localhost:8888/v1 configured by its tests/config/kinto.ini.
Its published source archive (pinned below) is unpacked under
bench/kinto-http/ with a throwaway virtualenv for the client and pytest;
this server is started with the same settings (kinto_attachment included,
its files in the run's folder) on each backend, and every test must pass.
Nothing of the client is a project dependency.
"""

import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from servers import Server

HERE = Path(__file__).resolve().parent
WORKDIR = HERE.parent / "kinto-http"
VERSION = "11.11.0"
TEST_FILES = ("tests/test_functional.py", "tests/test_functional_async.py")
TEST_PACKAGES = ("pytest", "pytest-mock", "pytest-asyncio")
PORT = 8888  # kinto_http.constants.SERVER_URL

# The settings of kinto-http.py's tests/config/kinto.ini.
PROFILE = """
kinto.paginate_by = 5
kinto.includes = kinto.plugins.flush kinto.plugins.accounts kinto_attachment
kinto.attachment.base_path = {workdir}/attachments
multiauth.policies = account
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.account_create_principals = system.Everyone
kinto.account_write_principals = account:user
kinto.bucket_create_principals = account:user
kinto.experimental_permissions_endpoint = true
"""

# Tests known to fail, with the reason: none.
EXPECTED_FAILURES = {}


def ensure_suite():
    """The client's source tree and a virtualenv with it and pytest."""
    source = WORKDIR / f"kinto_http-{VERSION}"
    python = WORKDIR / "venv" / "bin" / "python"
    if python.exists() and source.exists():
        return source, python
    print(f"Installing kinto-http {VERSION} and its functional tests into {WORKDIR} ...", flush=True)
    WORKDIR.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(WORKDIR / "venv")], check=True)
    pip = [str(python), "-m", "pip", "--quiet"]
    subprocess.run(
        [*pip, "download", "--no-deps", "--no-binary", ":all:", f"kinto-http=={VERSION}", "-d", str(WORKDIR)],
        check=True,
    )
    archive = WORKDIR / f"kinto_http-{VERSION}.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(WORKDIR, filter="data")
    subprocess.run([*pip, "install", str(archive), *TEST_PACKAGES], check=True)
    return source, python


def outcomes(report):
    """{module::test: passed | failed | skipped} from a JUnit XML report."""
    results = {}
    for case in ET.parse(report).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                state = "failed"
            elif child.tag == "skipped":
                state = "skipped"
        results[f"{module}::{case.get('name')}"] = state
    return results


def run_client_suite(backend, workdir):
    """Run the suite against our server on ``backend``; return (summary, problems)."""
    source, python = ensure_suite()
    server = Server("ours", backend, workdir, profile=PROFILE.format(workdir=workdir), port=PORT)
    server.start()
    report = Path(workdir) / f"kinto-http-{backend}.xml"
    # -c: the client's own configuration, not this project's (found upwards).
    options = ["-c", "pyproject.toml", "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"]
    try:
        run = subprocess.run(
            [str(python), "-m", "pytest", "-q", *options, f"--junitxml={report}", *TEST_FILES],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        server.stop()
    if not report.exists():
        return f"{backend}: kinto-http.py's suite did not run", [run.stdout[-3000:] + run.stderr[-3000:]]
    results = outcomes(report)
    problems = []
    for test, state in sorted(results.items()):
        expected = EXPECTED_FAILURES.get(test)
        if state == "failed" and not expected:
            problems.append(f"[{backend}] kinto-http.py {test} failed")
        elif state != "failed" and expected:
            problems.append(
                f"[{backend}] kinto-http.py {test} {state}, expected to fail ({expected}): update clients.py"
            )
        elif state == "skipped":
            problems.append(f"[{backend}] kinto-http.py {test} skipped")
    if not results:
        problems.append(f"[{backend}] kinto-http.py's suite reported no test")
    counts = {state: sum(1 for s in results.values() if s == state) for state in ("passed", "failed", "skipped")}
    summary = (
        f"{backend}: kinto-http.py {VERSION} functional tests: {counts['passed']} passed, "
        f"{counts['failed']} failed ({len(EXPECTED_FAILURES)} expected), {counts['skipped']} skipped"
    )
    return summary, problems
