"""Load on the workbench: start ``chipgap serve`` on a free loopback port, send a bounded number of
concurrent requests of each kind, and print p50 / p95 latency and requests per second.

    python benchmarks/serve_load.py [--requests 40] [--concurrency 8]

Only 127.0.0.1 is ever addressed; the run is bounded in count (``--requests`` per kind) and time
(each request times out after 120 s), and stops the server it started.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

KINDS = {
    "page /chips": ("GET", "/chips", None),
    "page /train (70B, 1,024 910Cs)": ("GET", "/train?model=llama-3.1-70b&chip=huawei-ascend-910c&chips=1024"
                                              "&seq_len=8192", None),
    "api /api/train (8B, 64 H100s)": ("POST", "/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": 64}),
    "api /api/serve (70B, 8 H100s, SLO)": ("POST", "/api/serve", {"model": "llama-3.1-70b", "chip": "h100",
                                                                 "chips": 8, "tpot_ms": 50}),
    "api /api/export/classify": ("POST", "/api/export/classify", {"chips": ["h20", "h100", "910c"], "samples": 200}),
    "api /api/report/answers (built)": ("POST", "/api/report/answers", {"changes": []}),
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None) -> float:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"} if data else {})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
        if r.status != 200:
            raise RuntimeError(f"{path}: HTTP {r.status}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=40, help="requests of each kind (at most 500)")
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (at most 32)")
    args = ap.parse_args()
    n, c = min(args.requests, 500), min(args.concurrency, 32)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "from chipgap.cli import main; main()", "serve", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                _call(base, "GET", "/api/schema/train", None)
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit("the server did not start")
                time.sleep(0.05)
        print(f"chipgap serve answered after {time.perf_counter() - t0:.2f} s")
        t = time.perf_counter()
        _call(base, "POST", "/api/report/answers", {"changes": []})   # build the overview's report once
        print(f"first overview (the report built once): {time.perf_counter() - t:.1f} s")
        print(f"{n} requests of each kind, {c} at a time, from the loopback")
        print(f"{'kind':40s} {'p50 ms':>9s} {'p95 ms':>9s} {'req/s':>8s}")
        for name, (method, path, body) in KINDS.items():
            _call(base, method, path, body)                            # warm (catalog, caches)
            start = time.perf_counter()
            with ThreadPoolExecutor(c) as pool:
                lat = sorted(pool.map(lambda _: _call(base, method, path, body), range(n)))
            wall = time.perf_counter() - start
            p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
            print(f"{name:40s} {1e3 * statistics.median(lat):9.1f} {1e3 * p95:9.1f} {n / wall:8.1f}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
