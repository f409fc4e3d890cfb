"""Requests per second the sandbox serves on one core.

Starts ``python -m sandbox`` (one uvicorn worker, pinned to CPU 0 when possible) on a free port,
connects an X account, then drives ``GET /x/2/users/me`` from client processes on the other
cores over keep-alive connections. Prints each run and the median. Target: >= 2,000 req/s.

    uv run python bench/sandbox_rps.py [--seconds 5] [--runs 3] [--clients 2] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time

import httpx

from sandbox.testing import CLIENT_ID, CLIENT_SECRET, approve, free_port, pkce, redirect_uri


def connect_x(base: str) -> str:
    p = pkce()
    with httpx.Client(base_url=base) as client:
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri("x"),
            "scope": "tweet.read users.read",
            "state": "bench",
            "code_challenge": p.challenge,
            "code_challenge_method": "S256",
        }
        code = approve(client, "/x/i/oauth2/authorize", params, "bench")["code"]
        response = client.post(
            "/x/2/oauth2/token",
            auth=(CLIENT_ID, CLIENT_SECRET),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri("x"),
                "code_verifier": p.verifier,
            },
        )
        token: str = response.json()["access_token"]
        return token


async def connection(host: str, port: int, request: bytes, deadline: float) -> tuple[int, int]:
    """One keep-alive connection sending requests back to back (raw HTTP/1.1: httpx's async
    client costs more CPU per request than the server does, so it would measure itself)."""
    reader, writer = await asyncio.open_connection(host, port)
    ok = errors = 0
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
            else:
                errors += 1
    finally:
        writer.close()
    return ok, errors


async def drive(base: str, token: str, seconds: float, concurrency: int) -> tuple[int, int]:
    host, port = base.removeprefix("http://").split(":")
    request = (
        f"GET /x/2/users/me HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + seconds
    results = await asyncio.gather(
        *(connection(host, int(port), request, deadline) for _ in range(concurrency))
    )
    return sum(r[0] for r in results), sum(r[1] for r in results)


def client_process(args: tuple[str, str, float, int, int]) -> tuple[int, int]:
    base, token, seconds, concurrency, cpu = args
    if hasattr(os, "sched_setaffinity") and cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    return asyncio.run(drive(base, token, seconds, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "SANDBOX_PORT": str(port), "SANDBOX_X_ME_LIMIT_15MIN": "100000000"}
    command = [sys.executable, "-m", "sandbox"]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(cpus[0]), *command]  # the server gets one core
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/_sandbox/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = connect_x(base)
        client_cpus = cpus[1:] or cpus
        rates = []
        for run in range(args.runs):
            jobs = [
                (base, token, args.seconds, args.concurrency, client_cpus[i % len(client_cpus)])
                for i in range(args.clients)
            ]
            started = time.monotonic()
            with multiprocessing.Pool(args.clients) as pool:
                results = pool.map(client_process, jobs)
            elapsed = time.monotonic() - started
            ok = sum(r[0] for r in results)
            errors = sum(r[1] for r in results)
            rate = ok / args.seconds
            rates.append(rate)
            print(
                f"run {run + 1}: {rate:,.0f} req/s ({ok} ok, {errors} errors, {elapsed:.1f}s wall)"
            )
        print(
            f"median: {statistics.median(rates):,.0f} req/s "
            f"(GET /x/2/users/me, server on 1 core, {args.clients} client processes)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
