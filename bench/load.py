"""A small closed-loop load generator, run as its own process on loopback.

`python -m bench.load URL --header 'Name: value' --concurrency C --duration S --min-requests N`
sends GET requests from C threads (each with its own keep-alive connection) until S seconds
passed and at least N requests completed, after a warm-up, and prints one JSON object:
p50/p99 latency in milliseconds (time to the last byte of the body), requests per second,
the number of requests, the body size and every status seen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections import Counter
from typing import Any

import httpx


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(
    url: str,
    headers: dict[str, str],
    *,
    concurrency: int,
    duration: float,
    min_requests: int,
    warmup: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sizes: list[int] = []
    lock = threading.Lock()
    with httpx.Client(headers=headers, timeout=60) as client:
        for _ in range(warmup):
            client.get(url)
    stop_at = time.perf_counter() + duration
    done = [0]

    def worker() -> None:
        with httpx.Client(headers=headers, timeout=60) as client:
            while True:
                with lock:
                    if time.perf_counter() >= stop_at and done[0] >= min_requests:
                        return
                    done[0] += 1
                started = time.perf_counter()
                response = client.get(url)
                body = response.content
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                    statuses[response.status_code] += 1
                    sizes.append(len(body))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "rps": len(latencies) / wall if wall > 0 else float("nan"),
        "bytes": max(sizes) if sizes else 0,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--min-requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    print(
        json.dumps(
            run(
                args.url,
                headers,
                concurrency=args.concurrency,
                duration=args.duration,
                min_requests=args.min_requests,
                warmup=args.warmup,
            )
        )
    )


if __name__ == "__main__":
    main()
