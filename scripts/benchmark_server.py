#!/usr/bin/env python
"""Load on `allennlp sinet-serve`, batching concurrent requests vs predicting them one at a time:
throughput, latency and errors under N concurrent clients, the model's offline batch throughput
beside them, and the batching server's memory over many requests (it must not grow).

    python scripts/benchmark_server.py ARCHIVE --data-file <data>/scierc/test.json
        [--clients 1 8 32] [--requests-per-level 400] [--rounds 2] [--total-requests 10000]
        [--memory-clients 32] [--output benchmarks/server/batching_cpu.json]

Starts two `allennlp sinet-serve ARCHIVE` servers on free local ports in subprocesses: one with
the default batching options, one with `--batch-size 1` (each request predicted alone, one at a
time: the server before batching), and waits for `GET /health`. Each client is a thread with its
own keep-alive HTTP connection that posts `{"tokens": sentence}` for the data file's sentences in
turn. For each N in --clients and each of --rounds rounds, N clients send --requests-per-level
requests to one server, then to the other (the order alternates by round, so both modes meet the
same load from other processes): requests per second (requests over the wall clock of the
level's runs), p50 and p95 latency, and errors (any answer but 200). The offline figure is the
predictor in this process on the same sentences, `predict_batch_json` on 32 at a time (before and
after the levels). Then --memory-clients clients send --total-requests more requests to the
batching server, whose resident memory (VmRSS in /proc/PID/status) is read before and after each
tenth of them. Printed, and written as JSON (paths relative to the repository).
"""
import argparse
import http.client
import json
import os
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
MB = 2**20
OFFLINE_BATCH = 32
# sinet-serve's options for each mode; the batching one is the command's defaults.
MODES = {"batching": [], "one_at_a_time": ["--batch-size", "1"]}


class Load:
    """Requests shared out to client threads; every answer's latency and status."""

    def __init__(self, port: int, bodies: List[bytes]) -> None:
        self.port, self.bodies = port, bodies
        self.lock = threading.Lock()
        self.next_request = 0

    def run(self, clients: int, requests: int) -> Dict[str, list]:
        """`requests` requests from `clients` threads: the latencies, errors and wall time."""
        latencies: List[float] = []
        errors: List[str] = []
        stop_at = self.next_request + requests
        start = time.perf_counter()
        threads = [threading.Thread(target=self._client, args=(stop_at, latencies, errors)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {"latencies": latencies, "errors": errors, "wall": time.perf_counter() - start}

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


def summary(clients: int, runs: List[Dict[str, list]]) -> Dict[str, object]:
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    errors = [error for run in runs for error in run["errors"]]
    return {"clients": clients, "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
            "requests_per_second": round(len(latencies) / sum(run["wall"] for run in runs), 2),
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)}


def offline_throughput(archive: Path, bodies: List[bytes], count: int) -> float:
    """Sentences per second of the predictor itself, `OFFLINE_BATCH` inputs per call."""
    from sinet_allen.predictors.extraction import load_predictor

    predictor = load_predictor(archive)
    inputs = [json.loads(bodies[k % len(bodies)]) for k in range(count)]
    predictor.predict_batch_json(inputs[:OFFLINE_BATCH])  # warm-up
    start = time.perf_counter()
    for first in range(0, count, OFFLINE_BATCH):
        predictor.predict_batch_json(inputs[first : first + OFFLINE_BATCH])
    return round(count / (time.perf_counter() - start), 2)


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) * 1024 / MB, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(archive: Path, options: List[str], log: Path) -> subprocess.Popen:
    port = free_port()
    command = [sys.executable, "-m", "allennlp.__main__", "sinet-serve", str(archive), "--port", str(port), *options]
    server = subprocess.Popen(command, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT)
    server.port = port
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


def stop_server(server: subprocess.Popen) -> int:
    """SIGTERM, as a service manager stops it: the exit status (0 after a clean drain)."""
    server.terminate()
    return server.wait(120)


def measure_levels(servers: Dict[str, subprocess.Popen], bodies: List[bytes], args) -> Dict[str, list]:
    loads = {mode: Load(server.port, bodies) for mode, server in servers.items()}
    levels: Dict[str, list] = {mode: [] for mode in servers}
    for clients in args.clients:
        runs: Dict[str, list] = {mode: [] for mode in servers}
        for round_number in range(args.rounds):
            order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
            for mode in order:
                runs[mode].append(loads[mode].run(clients, args.requests_per_level))
        for mode in servers:
            levels[mode].append(summary(clients, runs[mode]))
            print(json.dumps({"mode": mode, **levels[mode][-1]}), flush=True)
    return levels


def measure_memory(server: subprocess.Popen, bodies: List[bytes], args) -> List[Dict[str, float]]:
    load = Load(server.port, bodies)
    memory = [{"requests": 0, "rss_mb": resident_mb(server.pid)}]
    for tenth in range(1, 11):
        load.run(args.memory_clients, args.total_requests * tenth // 10 - load.next_request)
        memory.append({"requests": load.next_request, "rss_mb": resident_mb(server.pid)})
        print(json.dumps(memory[-1]), flush=True)
    return memory


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--data-file", type=Path, required=True, help="sentences to send (SpERT or DyGIE file)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests-per-level", type=int, default=400, help="per round, mode and client count")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each level per mode, alternating the modes")
    parser.add_argument("--total-requests", type=int, default=10_000, help="of the memory run")
    parser.add_argument("--memory-clients", type=int, default=32)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "server" / "batching_cpu.json")
    args = parser.parse_args(argv)
    bodies = [json.dumps({"tokens": s.tokens}).encode() for s in read_sentences(args.data_file) if s.tokens]
    logs = Path(tempfile.mkdtemp(prefix="sinet-serve-"))
    servers = {mode: start_server(args.archive, options, logs / f"{mode}.log") for mode, options in MODES.items()}
    try:
        offline = [offline_throughput(args.archive, bodies, args.requests_per_level)]
        levels = measure_levels(servers, bodies, args)
        offline.append(offline_throughput(args.archive, bodies, args.requests_per_level))
        print(json.dumps({"offline_batch_32_sentences_per_second": offline}), flush=True)
        memory = measure_memory(servers["batching"], bodies, args)
    finally:
        exits = {mode: stop_server(server) for mode, server in servers.items()}
    result = {
        **report_header(__file__, sys.argv[1:] if argv is None else argv, machine_info(torch.device("cpu"))),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "archive": shareable_path(args.archive), "data_file": shareable_path(args.data_file),
        "sentences": len(bodies), "rounds": args.rounds, "server_options": MODES,
        "levels": levels, "offline_batch_32_sentences_per_second": offline,
        "memory_clients": args.memory_clients, "memory": memory,
        "rss_growth_mb_after_first_tenth": round(memory[-1]["rss_mb"] - memory[1]["rss_mb"], 1),
        "exit_status_on_sigterm": exits,
    }
    write_json_atomically(args.output, result)
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
