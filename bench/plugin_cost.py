"""What a plugin costs the requests it measures or logs: the same server
with and without it, taking turns; prints the medians and the median of the
paired ratios.

    python bench/plugin_cost.py --plugin stream --backend sqlite      # make bench-write-cost
    python bench/plugin_cost.py --plugin prometheus --backend sqlite  # make bench-metrics-cost

- ``stream``: the change stream's log, on writes (POST one record, a batch
  of 25 creates), no stream open;
- ``prometheus`` and ``statsd``: the metrics, on GET one record (the
  cheapest request, where they weigh most) and POST one record;
- ``none``: two identical servers, the same scenarios: the ratio the bench
  reads when there is no difference (its noise).
"""

import argparse
import atexit
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import wrk  # noqa: E402
from scenarios import ALICE, _batch_body  # noqa: E402
from servers import BENCH_PROFILE, Server, ensure_wrk, free_port  # noqa: E402

WRITES = "/v1/buckets/bench/collections/writes/records"
RECORD = WRITES + "/one"
GET = f'wrk.headers["Authorization"] = "{ALICE}"\n'


def post_script(body):
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [[{body}]]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "{ALICE}"\n'
    )


DRAIN = """
import socket, sys
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
print(sink.getsockname()[1], flush=True)
while True:
    sink.recv(65536)
"""


def statsd_sink(kind="process"):
    """A StatsD agent's port: ``process``, a process of its own reading
    the datagrams (as an agent does); ``none``, a port nobody reads (what
    the server alone pays: the datagrams are refused by the kernel)."""
    if kind == "none":
        return free_port()
    agent = subprocess.Popen([sys.executable, "-c", DRAIN], stdout=subprocess.PIPE, text=True)
    atexit.register(agent.kill)
    return int(agent.stdout.readline())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plugin", choices=("stream", "prometheus", "statsd", "none"), default="stream")
    parser.add_argument("--backend", choices=("memory", "sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--sink", choices=("process", "none"), default="process", help="statsd: who reads")
    parser.add_argument("--rounds", type=int, default=3, help="turns per scenario (default: %(default)s)")
    args = parser.parse_args(argv)
    ensure_wrk()
    post = post_script('{"data": {"title": "x"}}')
    if args.plugin == "stream":
        plugin, extra = "kinto_server.plugins.stream", f"kinto.changes.stream.listen = 127.0.0.1:{free_port()}\n"
        scenarios = {
            "POST one record": (WRITES, post),
            "batch of 25 creates": ("/v1/batch", post_script(_batch_body())),
        }
    else:
        plugin = f"kinto.plugins.{args.plugin}" if args.plugin != "none" else ""
        extra = f"kinto.statsd_url = udp://127.0.0.1:{statsd_sink(args.sink)}\n" if args.plugin == "statsd" else ""
        scenarios = {"GET one record": (RECORD, GET), "POST one record": (WRITES, post)}
    with_plugin = (
        BENCH_PROFILE.replace(
            "kinto.includes = kinto.plugins.default_bucket",
            f"kinto.includes = kinto.plugins.default_bucket {plugin}",
        )
        + extra
    )
    with tempfile.TemporaryDirectory() as workdir:
        servers = {
            "without": Server("ours", args.backend, workdir, profile=BENCH_PROFILE),
            "with": Server("ours", args.backend, workdir, profile=with_plugin),
        }
        servers["with"].name, servers["with"].database = f"ours-{args.plugin}", f"bench_ours_{args.plugin}"
        try:
            for server in servers.values():
                server.start()
                http = requests.Session()
                http.headers["Authorization"] = ALICE
                for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/writes"):
                    http.put(server.url + path).raise_for_status()
                http.put(server.url + RECORD, json={"data": {"title": "x"}}).raise_for_status()
            print(f"ours on {args.backend}: with {plugin} vs without")
            for name, (path, script) in scenarios.items():
                runs = {kind: [] for kind in servers}
                for _ in range(args.rounds):
                    for kind, server in servers.items():
                        runs[kind].append(wrk(server.url + path, script, args.duration, workdir)["ok_rps"])
                ratios = [w / o for w, o in zip(runs["with"], runs["without"], strict=True)]
                print(
                    f"{name}: {statistics.median(runs['without']):.0f}/s without,"
                    f" {statistics.median(runs['with']):.0f}/s with: {statistics.median(ratios):.2f}×"
                )
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
