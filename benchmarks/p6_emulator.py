"""P6 — emulator throughput: requests/s served to 4 concurrent clients (no target).

Four threads, each with its own keep-alive ``requests.Session``, alternate ``GET`` list and
``GET`` show on a store of 10 credentials. Measured twice: the in-process ``EmulatorServer``
the tests use (clients and server share one interpreter and its GIL), and the ``miget-emulator``
command users run (its own process, access log on), for one client and for four.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from benchmarks._support import Result, closes_connections, emulator
from pulumi_miget.emulator import DEFAULT_API_KEY

ID = "P6"
CLIENTS = 4
SEEDED = 10
LISTENING = re.compile(r"listening on (\S+)")


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEFAULT_API_KEY}"
    return session


def _seed(api_url: str) -> list[str]:
    url = f"{api_url}/container_registry_credentials"
    with _session() as session:
        for i in range(SEEDED):
            body = {"name": f"seed-{i}", "registry": "github", "username": "u", "token": "t0ken"}
            session.post(url, json=body, timeout=30).raise_for_status()
        return [item["uuid"] for item in session.get(url, timeout=30).json()]


def throughput(api_url: str, uuids: list[str], clients: int, seconds: float) -> float:
    """Requests per second answered 200 to ``clients`` threads hammering for ``seconds``."""
    url = f"{api_url}/container_registry_credentials"
    counts = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        with _session() as session:
            session.get(url, timeout=30)  # connect before the clock starts
            start.wait()
            i = 0
            while time.perf_counter() < deadline[0]:
                target = url if i % 2 == 0 else f"{url}/{uuids[i % len(uuids)]}"
                if session.get(target, timeout=30).status_code == 200:
                    counts[index] += 1
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - began)


@contextmanager
def emulator_process() -> Iterator[str]:
    """``python -m pulumi_miget.emulator --port 0`` (what ``miget-emulator`` runs); its API URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_miget.emulator", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the access log: one line per request
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = None
        while match is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("miget-emulator exited before it listened")
            match = LISTENING.search(line)
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _rates(api_url: str, seconds: float, reps: int) -> tuple[float, str, float]:
    """(median req/s with CLIENTS clients, its min–max, req/s with one client)."""
    uuids = _seed(api_url)
    rates = [throughput(api_url, uuids, CLIENTS, seconds) for _ in range(reps)]
    single = throughput(api_url, uuids, 1, seconds)
    return statistics.median(rates), f"{min(rates):.0f}–{max(rates):.0f}", single


def run(quick: bool) -> list[Result]:
    seconds, reps = (0.5, 2) if quick else (1.0, 3)
    with emulator() as server:
        in_process, in_spread, in_single = _rates(server.api_url, seconds, reps)
        closes = closes_connections(server.api_url)
    with emulator_process() as api_url:
        out_process, out_spread, out_single = _rates(api_url, seconds, reps)
    details = [
        f"{CLIENTS} client threads, each its own keep-alive Session; GET list / GET show "
        f"alternating over {SEEDED} credentials; {reps}×{seconds:g} s per figure",
        f"in-process EmulatorServer (tests): {in_process:.0f} req/s with {CLIENTS} clients "
        f"(min–max {in_spread}), {in_single:.0f} req/s with 1",
        f"miget-emulator process (users): {out_process:.0f} req/s with {CLIENTS} clients "
        f"(min–max {out_spread}), {out_single:.0f} req/s with 1",
    ]
    if closes:
        details.append(
            "the server answers 'Connection: close' (werkzeug's dev server always does): every "
            "request is a new TCP connection and a new server thread, keep-alive never applies"
        )
    return [
        Result(
            ID,
            f"emulator throughput, {CLIENTS} clients, in-process (tests)",
            in_process,
            " req/s",
            f"min–max {in_spread}",
            "— (report)",
            None,
            details,
            f"{in_process:.0f} req/s",
        ),
        Result(
            ID,
            f"emulator throughput, {CLIENTS} clients, miget-emulator process",
            out_process,
            " req/s",
            f"min–max {out_spread}",
            "— (report)",
            None,
            [],
            f"{out_process:.0f} req/s",
        ),
    ]
