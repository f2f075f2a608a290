import threading
import time
from types import SimpleNamespace

from kinto_server.middleware.memory_writes import memory_writes_tween_factory


def run_concurrently(method, count=4):
    active, peak, lock = [0], [0], threading.Lock()

    def handler(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return "ok"

    tween = memory_writes_tween_factory(handler, registry=None)
    threads = [threading.Thread(target=tween, args=(SimpleNamespace(method=method),)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peak[0]


def test_write_requests_run_one_at_a_time():
    assert run_concurrently("PATCH") == 1


def test_read_requests_run_in_parallel():
    assert run_concurrently("GET") > 1
