"""What a metrics plugin costs a request in CPU instructions, counted by
valgrind (callgrind) in the server process: repeatable to a fraction of a
percent whatever else the machine does, where the wrk ratios of
``plugin_cost.py`` move by a few percent between runs on a shared 2-core
machine.

    python bench/plugin_instructions.py --plugin statsd     # make bench-metrics-instructions

The server (one waitress process, the bench's settings, memory or SQLite
backend) runs under callgrind twice per variant, serving ``--warmup`` then
``--warmup + --requests`` requests of one scenario over HTTP; the difference
divided by ``--requests`` is what one request costs, waitress and the
plugin's threads included, the client excluded. Prints instructions per
request without and with the plugin, and their ratio.
"""

import argparse
import base64
import contextlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from plugin_cost import statsd_sink  # noqa: E402
from servers import SECRET, THREADS, free_port  # noqa: E402

ALICE = "Basic " + base64.b64encode(b"alice:secret").decode()
RECORD = "/v1/buckets/bench/collections/writes/records/one"
SCENARIOS = {
    "GET one record": ("GET", RECORD, None),
    "POST one record": ("POST", "/v1/buckets/bench/collections/writes/records", '{"data": {"title": "x"}}'),
}


def serve(argv):
    """The server side: ``--serve PORT LIMIT BACKEND WORKDIR INCLUDES [STATSD_PORT]``;
    exits once it has answered LIMIT requests (after the set-up ones)."""
    import logging

    import waitress

    from kinto_server import main as make_app

    port, limit, backend, workdir, includes = int(argv[0]), int(argv[1]), argv[2], argv[3], argv[4]
    logging.disable(logging.WARNING)
    settings = {
        "kinto.userid_hmac_secret": SECRET,
        "kinto.bucket_create_principals": "system.Authenticated",
        "kinto.includes": includes,
        "multiauth.policies": "basicauth",
    }
    for role in ("storage", "permission", "cache"):
        settings[f"kinto.{role}_backend"] = backend
        if backend == "sqlite":
            settings[f"kinto.{role}_url"] = os.path.join(workdir, "data.sqlite")
    if len(argv) > 5:
        settings["kinto.statsd_url"] = f"udp://127.0.0.1:{argv[5]}"
    app = make_app({}, **settings)
    answered = [0]

    def counting(environ, start_response):
        answered[0] += 1
        if answered[0] > limit:
            os._exit(0)  # callgrind writes its counts at exit
        return app(environ, start_response)

    waitress.serve(counting, host="127.0.0.1", port=port, threads=THREADS, _quiet=True)


def drive(port, setup, scenario, count):
    """The client: the set-up requests, ``count`` of the scenario, then one
    more that ends the server."""
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.connect()
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise SystemExit(f"the server on port {port} did not start")
    headers = {"Authorization": ALICE, "Content-Type": "application/json"}

    def send(method, path, body=None):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    for method, path, body in setup:
        assert send(method, path, body) in (200, 201), path
    method, path, body = scenario
    for _ in range(count):
        send(method, path, body)
    with contextlib.suppress(OSError, http.client.HTTPException):  # the server exits on it
        send("GET", "/v1/")


def instructions(includes, backend, scenario, count, statsd_port):
    setup = [
        ("PUT", "/v1/buckets/bench", None),
        ("PUT", "/v1/buckets/bench/collections/writes", None),
        ("PUT", RECORD, '{"data": {"title": "x"}}'),
    ]
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        out = os.path.join(workdir, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--serve",
            str(port),
            str(len(setup) + count),
            backend,
            workdir,
            includes,
        ]
        if statsd_port:
            command.append(str(statsd_port))
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        drive(port, setup, scenario, count)
        _, errors = server.communicate(timeout=600)
    found = re.search(r"Collected : (\d+)", errors)
    if not found:
        raise SystemExit(f"callgrind gave no count:\n{errors[-2000:]}")
    return int(found.group(1))


def per_request(includes, args, scenario, statsd_port):
    low = instructions(includes, args.backend, scenario, args.warmup, statsd_port)
    high = instructions(includes, args.backend, scenario, args.warmup + args.requests, statsd_port)
    return (high - low) / args.requests


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        return serve(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plugin", choices=("prometheus", "statsd"), default="prometheus")
    parser.add_argument("--backend", choices=("memory", "sqlite"), default="sqlite")
    parser.add_argument("--requests", type=int, default=1000, help="counted requests (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=200, help="requests before them (default: %(default)s)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    base = "kinto.plugins.default_bucket"
    statsd_port = statsd_sink() if args.plugin == "statsd" else None
    print(f"ours on {args.backend}: instructions per request, without and with kinto.plugins.{args.plugin}")
    for name, scenario in SCENARIOS.items():
        without = per_request(base, args, scenario, None)
        with_plugin = per_request(f"{base} kinto.plugins.{args.plugin}", args, scenario, statsd_port)
        print(f"{name}: {without:,.0f} without, {with_plugin:,.0f} with: {with_plugin / without:.3f}×")


if __name__ == "__main__":
    main()
