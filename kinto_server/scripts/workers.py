"""Several waitress processes sharing one listening socket.

The parent binds the socket, then forks the workers; each worker loads the
application itself (its own database pool, its own threads) and accepts
connections from the shared socket, so the kernel spreads them over the
workers. The parent only supervises: a worker that dies is replaced, and
SIGTERM/SIGINT stop them all. Workers keep no state between requests that
another worker could miss (everything lives in the backends), which is why
this only makes sense with PostgreSQL backends: memory backends would give
each worker its own separate data.
"""

import contextlib
import os
import signal
import socket
import sys
import tempfile
import time

RESTART_DELAY = 1.0
# A worker that dies this soon after starting counts as failing to start;
# after a few such failures in a row the whole server gives up, rather than
# restarting forever a configuration that cannot work.
QUICK_EXIT_SECONDS = 5.0
MAX_QUICK_EXITS = 3


def listening_socket(options):
    """Bind the address the ``[server:main]`` options describe and take the
    address options out of ``options`` (waitress refuses both)."""
    listen = options.pop("listen", None)
    host, port = options.pop("host", "0.0.0.0"), options.pop("port", "8080")
    if listen:
        if len(listen.split()) > 1:
            raise ValueError("with several workers, give one address to listen on")
        host, _, port = listen.rpartition(":")
        host = host.strip("[]") or "0.0.0.0"
    if "unix_socket" in options:
        raise ValueError("several workers need a TCP address, not unix_socket")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(int(options.get("backlog", 1024)))
    sock.setblocking(False)
    return sock


def _worker(load_app, sock, options):
    import waitress

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        waitress.serve(load_app(), sockets=[sock], **options)
    except BaseException as exc:  # noqa: BLE001 - a worker must never return into the parent's loop
        print(f"worker {os.getpid()} failed: {exc!r}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(0)


def share_stream_socket(listen, max_streams):
    """Bind the change stream's address (``kinto.changes.stream.listen``)
    here, once, for every worker (each would otherwise try to bind it)."""
    from kinto_server.plugins.stream import parse_listen
    from kinto_server.plugins.stream.server import INHERITED_SOCKET, listening_socket

    stream_sock = listening_socket(*parse_listen(listen), max_streams)
    os.environ[INHERITED_SOCKET] = str(stream_sock.fileno())
    return stream_sock


@contextlib.contextmanager
def shared_metrics_folder():
    """A ``PROMETHEUS_MULTIPROC_DIR`` for the workers (unless one is set):
    each writes its metrics there, and whichever answers ``/__metrics__``
    sums them all, those of workers that died included (their counts are
    part of the totals). Set before any worker imports the Prometheus
    client; removed at the end."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="kinto-server-metrics-") as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def serve(load_app, options, workers, stream_listen=None, max_streams=10000):
    """Run ``workers`` processes serving ``load_app()`` until SIGTERM/SIGINT."""
    with shared_metrics_folder():
        return _serve(load_app, options, workers, stream_listen, max_streams)


def _serve(load_app, options, workers, stream_listen, max_streams):
    sock = listening_socket(options)
    stream_sock = share_stream_socket(stream_listen, max_streams) if stream_listen else None
    host, port = sock.getsockname()[:2]
    print(f"Serving on http://{host}:{port} with {workers} worker processes", flush=True)
    children = {}
    stopping = False
    quick_exits = 0

    def spawn():
        pid = os.fork()
        if pid == 0:
            _worker(load_app, sock, options)
        children[pid] = time.monotonic()

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:  # pragma: no cover - Python retries wait() itself
            continue
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        code = os.waitstatus_to_exitcode(status)
        quick = time.monotonic() - started < QUICK_EXIT_SECONDS
        quick_exits = quick_exits + 1 if quick else 0
        if quick_exits >= MAX_QUICK_EXITS:
            print(f"workers keep exiting at start (last: {code}); stopping", file=sys.stderr, flush=True)
            stop(None, None)
            continue
        print(f"worker {pid} exited ({code}); starting another", file=sys.stderr, flush=True)
        if quick:
            time.sleep(RESTART_DELAY)
        if not stopping:
            spawn()
    sock.close()
    if stream_sock is not None:
        stream_sock.close()
    return 1 if quick_exits >= MAX_QUICK_EXITS else 0
