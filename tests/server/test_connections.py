"""allennlp sinet-serve over real connections (uvicorn on 127.0.0.1, raw sockets as clients): a
client that stalls while sending its body is answered 408 and disconnected, a client that sends a
whole oversized body before reading gets its 413, a client that leaves mid-request is one log
line; and the command itself, stopped by SIGTERM with requests waiting, answers them and exits 0."""
import http.client
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from allennlp.models.archival import load_archive

from conftest import REPO
from sinet_allen.server.app import app_for_archive
from sinet_allen.server.limits import Limits

sys.path.insert(0, str(REPO / "scripts"))
demo = importlib.import_module("demo_screenshot")
sys.path.remove(str(REPO / "scripts"))

LIMITS = Limits(max_request_bytes=2_000, body_timeout=1.0)


@pytest.fixture(scope="module")
def url(fixture_archive):
    with demo.serving(app_for_archive(load_archive(str(fixture_archive)), LIMITS)) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.rsplit("/", 1)[1].split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    return connection


def headers(length: int) -> bytes:
    return (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % length)


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_a_client_that_stalls_mid_body_gets_408_and_is_disconnected(url):
    with connect(url) as connection:
        connection.sendall(headers(100) + b'{"sentence": "Kernels')  # and then nothing
        started = time.monotonic()
        answer = read_all(connection)  # returns only once the server closed the connection
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"detail": "the request body did not arrive within 1 s"}
    assert time.monotonic() - started < 20


def test_a_client_that_sends_an_oversized_body_first_can_read_the_413(url):
    body = b'{"document": "' + b"z" * 1_000_000 + b'"}'
    with connect(url) as connection:
        connection.sendall(headers(len(body)) + body)
        status_line = connection.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 413 ")


def test_a_client_that_leaves_mid_request_is_one_log_line(url, caplog):
    caplog.set_level(logging.INFO)
    with connect(url) as connection:
        connection.sendall(headers(100) + b'{"sentence": ')
        time.sleep(0.2)
    deadline = time.monotonic() + 20
    while not any("disconnected" in record.getMessage() for record in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.05)
    ours = [record.getMessage().split(" ", 1)[1] for record in caplog.records if record.name.startswith("sinet_allen")]
    assert ours == ["disconnected before its request ended"]
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


def test_sigterm_answers_the_waiting_requests_and_exits_0(fixture_archive, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    # A long batch wait holds the requests in the queue when the signal comes.
    command = [sys.executable, "-m", "allennlp", "sinet-serve", str(fixture_archive), "--port", str(port),
               "--batch-wait-ms", "3000"]
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                                  env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        wait_for_health(server, port, log)
        answers = []
        clients = [threading.Thread(target=lambda k=k: answers.append(post(port, {"tokens": ["word"] * (k + 1)})))
                   for k in range(4)]
        for client in clients:
            client.start()
        time.sleep(1.0)  # the requests are in the server's queue
        server.send_signal(signal.SIGTERM)
        for client in clients:
            client.join(60)
        status = server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
    text = log.read_text()
    assert sorted((code, len(result["tokens"])) for code, result in answers) == [(200, k) for k in range(1, 5)], text
    assert status == 0, text
    assert "the model's queue is drained: 4 requests in 1 batches" in text and "Traceback" not in text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(server: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the server did not start: {log.read_text()}")


def post(port: int, body: dict):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/predict", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())
