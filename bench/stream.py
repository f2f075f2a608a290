"""Benchmark the live change stream on one server process.

    python bench/stream.py --backend sqlite             # make bench-stream
    python bench/stream.py --backend postgresql --streams 1,100,2000 --writes 60

For each number of open streams (each of its own user, on one collection
that every authenticated user may read): the latency from a write to its
arrival at every stream (the clock is read just before the POST is sent, so
the figure includes the write's own time: an upper bound of commit to
arrival), p50 / p99 / max over every (write, stream) pair, and events
missing; the resident memory per open stream; and GET one record's
throughput (wrk) with no stream open and with the largest number open,
taking turns ``--rounds`` times (medians, and the median of the paired
ratios).
"""

import argparse
import asyncio
import base64
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import ujson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import wrk  # noqa: E402
from servers import BENCH_PROFILE, Server, ensure_wrk, free_port  # noqa: E402

COLLECTION = "/v1/buckets/bench/collections/c"


def basic(user):
    return "Basic " + base64.b64encode(f"{user}:secret".encode()).decode()


ALICE = basic("alice")


def profile(stream_port, streams):
    return (
        BENCH_PROFILE.replace(
            "kinto.includes = kinto.plugins.default_bucket",
            "kinto.includes = kinto.plugins.default_bucket kinto_server.plugins.stream",
        )
        + f"kinto.changes.stream.listen = 127.0.0.1:{stream_port}\n"
        + f"kinto.changes.stream.max_per_process = {streams + 100}\n"
    )


class Listener:
    """``count`` streams, each of its own user, read by one event loop in a
    thread; ``arrivals[write id]`` collects the arrival times."""

    def __init__(self, port, count):
        self.port, self.count = port, count
        self.arrivals = {}
        self.ready = threading.Event()
        self.failed = []
        self.loop = asyncio.new_event_loop()
        self.writers = []
        threading.Thread(target=self.loop.run_until_complete, args=(self.main(),), daemon=True).start()

    async def open(self, n):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        head = (
            f"GET /v1/changes/stream?resources={COLLECTION[3:]} HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: {basic(f'user{n}')}\r\n\r\n"
        )
        writer.write(head.encode())
        status = await reader.readline()
        if b" 200 " not in status:
            self.failed.append(status)
            writer.close()
            return None
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        while not (await reader.readline()).startswith(b"event: ready"):
            pass
        self.writers.append(writer)
        return reader

    async def read(self, reader):
        while True:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b'data: {"action"'):
                now = time.time()
                data = ujson.loads(line[6:])["data"]
                self.arrivals.setdefault(data["write"], []).append(now - data["sent"])

    async def main(self):
        readers = []
        for start in range(0, self.count, 100):  # 100 at a time: the grants take the API's threads
            opened = await asyncio.gather(*(self.open(n) for n in range(start, min(self.count, start + 100))))
            readers += [r for r in opened if r is not None]
        self.tasks = [asyncio.ensure_future(self.read(r)) for r in readers]
        self.ready.set()
        self.closing = asyncio.Event()
        await self.closing.wait()
        for writer in self.writers:
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def close(self):
        self.loop.call_soon_threadsafe(self.closing.set)


def latencies(server, port, count, writes):
    listener = Listener(port, count)
    listener.ready.wait(300)
    if listener.failed:
        raise RuntimeError(f"{len(listener.failed)} streams refused: {listener.failed[0]!r}")
    time.sleep(0.5)
    rss = server.rss_mib()
    http = requests.Session()
    http.headers["Authorization"] = ALICE
    write_seconds = []
    for n in range(writes):
        sent = time.time()
        response = http.post(f"{server.url}{COLLECTION}/records", json={"data": {"write": n, "sent": sent}})
        write_seconds.append(time.time() - sent)
        assert response.status_code == 201, response.text
        time.sleep(0.1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(len(v) for v in listener.arrivals.values()) < writes * count:
        time.sleep(0.1)
    found = [x for values in listener.arrivals.values() for x in values]
    listener.close()
    time.sleep(0.5)
    return {
        "streams": count,
        "missing": writes * count - len(found),
        "p50": percentile(found, 50) * 1000,
        "p99": percentile(found, 99) * 1000,
        "max": max(found) * 1000 if found else float("nan"),
        "write_p50": percentile(write_seconds, 50) * 1000,
        "rss": rss,
    }, listener


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("memory", "sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--streams", default="1,100,2000", help="numbers of open streams (default: %(default)s)")
    parser.add_argument("--writes", type=int, default=50, help="writes per number of streams (default: %(default)s)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default: %(default)s)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="wrk turns without and with streams (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.streams.split(",")]
    ensure_wrk()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(counts) + 1024), hard))
    with tempfile.TemporaryDirectory() as workdir:
        stream_port = free_port()
        server = Server("ours", args.backend, workdir, profile=profile(stream_port, max(counts)))
        server.server_extra = "asyncore_use_poll = true\n"
        server.start()
        try:
            http = requests.Session()
            http.headers["Authorization"] = ALICE
            http.put(f"{server.url}/v1/buckets/bench").raise_for_status()
            http.put(f"{server.url}{COLLECTION}", json={"permissions": {"read": ["system.Authenticated"]}})
            record = http.post(f"{server.url}{COLLECTION}/records", json={"data": {"id": "r1"}}).json()["data"]
            time.sleep(1)
            base_rss = server.rss_mib()
            print(f"ours on {args.backend}, one process; RSS with no stream open: {base_rss:.1f} MiB", flush=True)
            print("| open streams | write → arrival p50 | p99 | max | missing | POST alone p50 | RSS | per stream |")
            print("|---|---|---|---|---|---|---|---|")
            for count in counts:
                row, _ = latencies(server, stream_port, count, args.writes)
                per_stream = (row["rss"] - base_rss) * 1024 / count
                print(
                    f"| {count} | {row['p50']:.1f} ms | {row['p99']:.1f} ms | {row['max']:.1f} ms | {row['missing']}"
                    f" | {row['write_p50']:.1f} ms | {row['rss']:.1f} MiB | {per_stream:.1f} KiB |",
                    flush=True,
                )
            url = f"{server.url}{COLLECTION}/records/{record['id']}"
            script = f'wrk.headers["Authorization"] = "{ALICE}"\n'
            wrk(url, script, 2, workdir)  # warm-up
            without, with_streams = [], []
            for _ in range(args.rounds):
                without.append(wrk(url, script, args.duration, workdir)["ok_rps"])
                listener = Listener(stream_port, max(counts))
                listener.ready.wait(300)
                time.sleep(0.5)
                with_streams.append(wrk(url, script, args.duration, workdir)["ok_rps"])
                listener.close()
                time.sleep(1)
            ratios = [w / o for w, o in zip(with_streams, without, strict=True)]
            print(
                f"\nGET one record: {statistics.median(without):.0f} req/s with no stream,"
                f" {statistics.median(with_streams):.0f} req/s with {max(counts)} open streams:"
                f" {statistics.median(ratios):.2f}× (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
