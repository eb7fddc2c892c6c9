#!/usr/bin/env python
"""Load on `allennlp sinet-serve`: throughput, latency and errors under N concurrent clients, and
the server's memory over 10,000 requests (it must not grow).

    python scripts/benchmark_server.py ARCHIVE --data-file <data>/scierc/test.json
        [--clients 1 8 32] [--requests-per-level 400] [--total-requests 10000]
        [--output benchmarks/server/server_cpu.json]

Starts `allennlp sinet-serve ARCHIVE` on a free local port in a subprocess and waits for
`GET /health`. Each client is a thread with its own keep-alive HTTP connection that posts
`{"tokens": sentence}` for the data file's sentences in turn. For each N in --clients, N clients
send --requests-per-level requests in all: requests per second (wall clock of the level), p50 and
p95 latency, and errors (any answer but 200). Then 8 clients go on until the server has answered
--total-requests in all, and the server process's resident memory (VmRSS in /proc/PID/status) is
read after each tenth of them. Printed, and written as JSON (paths relative to the repository).
"""
import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

import torch

# The script's folder is on sys.path: the shared helpers and the plugin's registrations.
from benchmark_efficiency import machine_info, report_header, shareable_path
from sinet_allen.dataset_readers.formats import read_sentences
from sinet_allen.files import write_json_atomically

REPO = Path(__file__).resolve().parents[1]
MEMORY_CLIENTS = 8
MB = 2**20


class Load:
    """Requests shared out to client threads; every answer's latency and status."""

    def __init__(self, port: int, bodies: List[bytes]) -> None:
        self.port, self.bodies = port, bodies
        self.lock = threading.Lock()
        self.next_request = 0

    def run(self, clients: int, requests: int) -> Dict[str, float]:
        latencies: List[float] = []
        errors: List[str] = []
        stop_at = self.next_request + requests
        start = time.perf_counter()
        threads = [threading.Thread(target=self._client, args=(stop_at, latencies, errors)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        latencies.sort()
        return {"clients": clients, "requests": len(latencies), "errors": len(errors),
                "first_errors": errors[:3], "requests_per_second": round(len(latencies) / wall, 2),
                "p50_ms": round(1000 * statistics.median(latencies), 1),
                "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)}

    def _take(self, stop_at: int) -> int:
        with self.lock:
            if self.next_request >= stop_at:
                return -1
            self.next_request += 1
            return self.next_request - 1

    def _client(self, stop_at: int, latencies: List[float], errors: List[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        while (number := self._take(stop_at)) >= 0:
            body = self.bodies[number % len(self.bodies)]
            sent = time.perf_counter()
            try:
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    errors.append(f"{response.status}: {answer[:200]!r}")
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            latencies.append(time.perf_counter() - sent)
        connection.close()


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) * 1024 / MB, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(archive: Path, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "allennlp.__main__", "sinet-serve", str(archive), "--port", str(port)]
    server = subprocess.Popen(command, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 600
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped with status {server.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(1)
    server.kill()
    raise RuntimeError(f"the server did not answer /health within 600 s; see {log}")


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--data-file", type=Path, required=True, help="sentences to send (SpERT or DyGIE file)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests-per-level", type=int, default=400)
    parser.add_argument("--total-requests", type=int, default=10_000)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "server" / "server_cpu.json")
    args = parser.parse_args(argv)
    bodies = [json.dumps({"tokens": s.tokens}).encode() for s in read_sentences(args.data_file) if s.tokens]
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="sinet-serve-")) / "server.log"
    server = start_server(args.archive, port, log)
    try:
        load = Load(port, bodies)
        levels = []
        for clients in args.clients:
            levels.append(load.run(clients, args.requests_per_level))
            print(json.dumps(levels[-1]), flush=True)
        memory = [{"requests": load.next_request, "rss_mb": resident_mb(server.pid)}]
        remaining = args.total_requests - load.next_request
        for _ in range(10):
            load.run(MEMORY_CLIENTS, max(0, remaining // 10))
            memory.append({"requests": load.next_request, "rss_mb": resident_mb(server.pid)})
            print(json.dumps(memory[-1]), flush=True)
    finally:
        server.terminate()
        server.wait()
    result = {
        **report_header(__file__, sys.argv[1:] if argv is None else argv, machine_info(torch.device("cpu"))),
        "archive": shareable_path(args.archive), "data_file": shareable_path(args.data_file),
        "sentences": len(bodies),
        "levels": levels, "memory_clients": MEMORY_CLIENTS, "memory": memory,
        "rss_growth_mb_after_first_tenth": round(memory[-1]["rss_mb"] - memory[1]["rss_mb"], 1),
    }
    write_json_atomically(args.output, result)
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
