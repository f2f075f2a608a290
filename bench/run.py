"""Benchmark kinto_server, alone or side by side with Kinto 26.

    python bench/run.py --backend memory               # ours only (make bench)
    python bench/run.py --backend postgresql --compare # ours vs Kinto (make bench-compare)
    python bench/run.py --backend sqlite --compare     # ours on SQLite, on memory, and Kinto on PostgreSQL

Each server is one waitress process (4 threads) on loopback; wrk drives it
with 8 keep-alive connections. Per scenario: req/s, p50 and p99 latency, and
errors (non-2xx answers and socket errors), after a warm-up. With --compare,
the two servers take turns scenario by scenario and the ratio ours/Kinto is
printed: ratios, not absolute figures, are what count on a noisy machine.
Ratios compare successful answers per second (req/s less the errors).
With --rounds N the servers take turns N times per scenario: each cell is
the median run, each ratio the median of the N side-by-side ratios.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import ALICE, SIZE, record_stamps, scenarios, seed, stored_records  # noqa: E402
from servers import Server, ensure_kinto, ensure_wrk  # noqa: E402

CONNECTIONS, THREADS = 8, 2


def _seconds(text):
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]+", "", text)
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[unit]


def wrk(url, script, duration, workdir):
    path = Path(workdir) / "scenario.lua"
    path.write_text(script)
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(path), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    total = int(re.search(r"(\d+) requests in", output).group(1))
    for percentile in ("50", "99"):
        result[f"p{percentile}"] = _seconds(re.search(rf"\s{percentile}%\s+(\S+)", output).group(1)) * 1000
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    # Ratios compare successful answers: a fast 409 is not a served request.
    result["ok_rps"] = result["rps"] * (1 - result["errors"] / total) if total else 0.0
    return result


def warm_up(server, workdir, seconds):
    script = f'wrk.headers["Authorization"] = "{ALICE}"\n'
    wrk(server.url + "/v1/buckets/bench/collections/c/records/r00001", script, seconds, workdir)


def median_run(runs):
    """The run with the median successful req/s (the lower middle one)."""
    return sorted(runs, key=lambda r: r["ok_rps"])[(len(runs) - 1) // 2]


def paired_ratio(runs, over, under):
    """The median of the ratios of runs made side by side, round by round:
    a drift of the machine's speed during a scenario affects both alike."""
    pairs = zip(runs[over], runs[under], strict=True)
    ratios = sorted(a["ok_rps"] / b["ok_rps"] if b["ok_rps"] else 0.0 for a, b in pairs)
    return ratios[(len(ratios) - 1) // 2]


def print_row(name, runs, kinds):
    """``runs[kind]``: that server's runs of the scenario, one per round."""
    cells = []
    for kind in kinds:
        r = median_run(runs[kind]) if runs.get(kind) else None
        cells.append(f"{r['rps']:8.0f} {r['p50']:6.1f} {r['p99']:6.1f} {r['errors']:5d}" if r else " " * 28)
    ratios = []
    for kind in kinds[1:]:
        if kind == "kinto":
            ratios.append(f"ours/kinto {paired_ratio(runs, 'ours', 'kinto'):5.1f}x")
        else:
            ratios.append(f"{kind}/ours {paired_ratio(runs, kind, 'ours'):4.2f}x")
    print(f"{name:42s} " + " | ".join(cells) + "  " + "  ".join(ratios), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("memory", "sqlite", "postgresql"), default="memory")
    parser.add_argument("--compare", action="store_true", help="also run Kinto 26 and print ratios")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per server (default: %(default)s)")
    parser.add_argument("--only", help="run only the scenarios whose name contains this text")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="runs of each scenario per server, taking turns; medians are printed (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="also run ours with this many worker processes on one port (SQLite or PostgreSQL)",
    )
    args = parser.parse_args(argv)
    if args.workers > 1 and args.backend == "memory":
        parser.error("--workers needs --backend sqlite or postgresql (memory data lives in each process)")

    ensure_wrk()
    if args.compare:
        ensure_kinto()
    kinds = ["ours"] + ([f"ours-{args.workers}w"] if args.workers > 1 else [])
    if args.backend == "sqlite":
        kinds.append("memory")  # Ours on the memory backend, side by side: the targets are ratios to it.
    kinds += ["kinto"] if args.compare else []
    with tempfile.TemporaryDirectory(prefix="kinto-bench-") as workdir:
        ceilings = {}
        for kind, label in (("bare", "bare Pyramid"), ("bare-wsgi", "bare WSGI")):
            bare = Server(kind, args.backend, workdir).start()
            ceilings[label] = wrk(bare.url + "/", "", args.duration, workdir)
            bare.stop()
        servers, seeded, seeded_rss = {}, {}, {}
        try:
            for kind in kinds:
                kind_name, _, workers = kind.partition("-")
                if kind == "memory":
                    servers[kind] = Server("ours", "memory", workdir)
                    servers[kind].name = "ours-memory"
                    servers[kind].start()
                else:
                    servers[kind] = Server(kind_name, args.backend, workdir, int(workers[:-1] or 1)).start()
                seed_seconds, seeded[kind] = seed(servers[kind].url)
                servers[kind].analyze()
                seeded_rss[kind] = servers[kind].rss_mib()
                print(
                    f"{kind}: seeded 10,000 records with batches of 25 in {seed_seconds:.1f} s, "
                    f"RSS {servers[kind].rss_mib():.0f} MiB",
                    flush=True,
                )
                warm_up(servers[kind], workdir, args.warmup)
            print()
            for label, ceiling in ceilings.items():
                print(f"{label} ceiling: {ceiling['rps']:.0f} req/s (p50 {ceiling['p50']:.1f} ms)")
            header = " | ".join(f"{k:>8s} req/s  p50ms  p99ms  errs" for k in kinds)
            print(f"{'scenario (' + args.backend + ')':42s} {header}   ratio")
            for index, scenario in enumerate(scenarios(seeded[kinds[0]])):
                if args.only and args.only not in scenario.name:
                    continue
                runs = {kind: [] for kind in kinds}
                for round_number in range(args.rounds):
                    for kind in kinds:
                        if round_number and scenario.needs_fresh_stamps:
                            seeded[kind]["stamps"] = record_stamps(servers[kind].url)
                        # Each server's own scenario: paths hold its own timestamps (_since).
                        own = scenarios(seeded[kind])[index]
                        url, script = servers[kind].url + own.path, own.script(seeded[kind])
                        runs[kind].append(wrk(url, script, args.duration, workdir))
                print_row(scenario.name, runs, kinds)
                ours = median_run(runs["ours"])["rps"]
                shares = ", ".join(f"{ours / c['rps']:.0%} of {label}" for label, c in ceilings.items())
                print(f"{'  (ours / the ceilings)':42s} {shares}")
            for kind in kinds:
                # The faster server stores more records in the write scenarios:
                # its memory per stored record is what compares.
                grown = servers[kind].rss_mib() - seeded_rss[kind]
                written = stored_records(servers[kind].url) - SIZE
                per_record = f", {grown * 1024 / written:.2f} KiB per record written since" if written > 0 else ""
                print(
                    f"{kind}: RSS at the end {servers[kind].rss_mib():.0f} MiB "
                    f"({grown:+.0f} MiB since seeded{per_record}; {written:,} records written)"
                )
        finally:
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
