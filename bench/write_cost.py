"""What the change stream's log costs on writes: POST one record and a batch
of 25 creates, on one server with the stream plugin and one without, taking
turns; prints the medians and the median of the paired ratios.

    python bench/write_cost.py --backend sqlite --rounds 3   # make bench-write-cost
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import wrk  # noqa: E402
from scenarios import ALICE, _batch_body  # noqa: E402
from servers import BENCH_PROFILE, Server, ensure_wrk, free_port  # noqa: E402

WRITES = "/v1/buckets/bench/collections/writes/records"


def post_script(body):
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = [[{body}]]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "{ALICE}"\n'
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("memory", "sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="turns per scenario (default: %(default)s)")
    args = parser.parse_args(argv)
    ensure_wrk()
    streaming = (
        BENCH_PROFILE.replace(
            "kinto.includes = kinto.plugins.default_bucket",
            "kinto.includes = kinto.plugins.default_bucket kinto_server.plugins.stream",
        )
        + f"kinto.changes.stream.listen = 127.0.0.1:{free_port()}\n"
    )
    with tempfile.TemporaryDirectory() as workdir:
        servers = {
            "without": Server("ours", args.backend, workdir, profile=BENCH_PROFILE),
            "with": Server("ours", args.backend, workdir, profile=streaming),
        }
        servers["with"].name, servers["with"].database = "ours-stream", "bench_ours_stream"
        scenarios = {
            "POST one record": (WRITES, post_script('{"data": {"title": "x"}}')),
            "batch of 25 creates": ("/v1/batch", post_script(_batch_body())),
        }
        try:
            for server in servers.values():
                server.start()
                http = requests.Session()
                http.headers["Authorization"] = ALICE
                for path in ("/v1/buckets/bench", "/v1/buckets/bench/collections/writes"):
                    http.put(server.url + path).raise_for_status()
            print(f"ours on {args.backend}, no stream open: with the stream plugin (its change log) vs without")
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
