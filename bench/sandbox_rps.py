"""Requests per second the sandbox serves on one core.

Starts ``python -m sandbox`` (one uvicorn worker, pinned to CPU 0 when possible) on a free port,
connects X accounts, then drives requests from client processes on the other cores over
keep-alive connections. Prints each run and the median.

``--endpoint me`` (default) reads ``GET /x/2/users/me``: target >= 2,000 req/s.
``--endpoint tweets`` publishes ``POST /x/2/tweets`` (distinct texts over ``--accounts``
accounts, caps lifted) after ``--prefill`` posts are already stored, so it shows whether the
cost of a publish grows with the posts the sandbox holds (it must not: the publisher's
benchmark needs >= 500 posts/s from it).

    uv run python bench/sandbox_rps.py [--seconds 5] [--runs 3] [--clients 2] [--concurrency 32]
    uv run python bench/sandbox_rps.py --endpoint tweets --prefill 15000 --accounts 1000

``--cpu-per-publish`` measures instead, in this process and without sockets, the CPU time of
one ``POST /x/2/tweets`` with no posts stored and with ``--prefill`` posts stored (default
15,000): CPU time, unlike requests/s, does not depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from sandbox.state import Post, SandboxState
from sandbox.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    approve,
    callback_params,
    free_port,
    pkce,
    redirect_uri,
)


def x_authorize_params(challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri("x"),
        "scope": "tweet.read tweet.write users.read",
        "state": "bench",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def token_form(code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri("x"),
        "code_verifier": verifier,
    }


def connect_x(base: str, username: str = "bench") -> str:
    p = pkce()
    with httpx.Client(base_url=base) as client:
        code = approve(client, "/x/i/oauth2/authorize", x_authorize_params(p.challenge), username)
        form = token_form(code["code"], p.verifier)
        response = client.post("/x/2/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data=form)
        token: str = response.json()["access_token"]
        return token


async def x_token(client: httpx.AsyncClient, code: str, verifier: str) -> str:
    form = token_form(code, verifier)
    response = await client.post("/x/2/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data=form)
    token: str = response.json()["access_token"]
    return token


Requests = Callable[[int], bytes]  # the n-th request of a connection, as raw HTTP/1.1


async def connection(
    host: str, port: int, requests: Requests, deadline: float, limit: int
) -> tuple[int, int]:
    """One keep-alive connection sending requests back to back until the deadline or ``limit``
    requests (raw HTTP/1.1: httpx's async client costs more CPU per request than the server
    does, so it would measure itself)."""
    reader, writer = await asyncio.open_connection(host, port)
    ok = errors = 0
    try:
        while time.monotonic() < deadline and ok + errors < limit:
            writer.write(requests(ok + errors))
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
                ok += 1
            else:
                errors += 1
    finally:
        writer.close()
    return ok, errors


def read_me(host: str, tokens: list[str], _worker: str) -> Requests:
    request = (
        f"GET /x/2/users/me HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tokens[0]}\r\n\r\n"
    ).encode()
    return lambda _n: request


def publish_tweets(host: str, tokens: list[str], worker: str) -> Requests:
    """Distinct texts (no duplicate refusals), the n-th one from the n-th account in turn."""

    def request(n: int) -> bytes:
        body = json.dumps({"text": f"bench {worker} #{n}"}).encode()
        return (
            f"POST /x/2/tweets HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {tokens[n % len(tokens)]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return request


ENDPOINTS = {"me": read_me, "tweets": publish_tweets}


@dataclass(frozen=True)
class Job:
    base: str
    endpoint: str
    tokens: list[str]
    seconds: float
    concurrency: int
    cpu: int
    name: str  # makes this job's texts unique
    limit: int = sys.maxsize  # requests per connection


async def drive(job: Job) -> tuple[int, int]:
    host, port = job.base.removeprefix("http://").split(":")
    deadline = time.monotonic() + job.seconds
    results = await asyncio.gather(
        *(
            connection(
                host,
                int(port),
                ENDPOINTS[job.endpoint](host, job.tokens, f"{job.name}.{c}"),
                deadline,
                job.limit,
            )
            for c in range(job.concurrency)
        )
    )
    return sum(r[0] for r in results), sum(r[1] for r in results)


def client_process(job: Job) -> tuple[int, int]:
    if hasattr(os, "sched_setaffinity") and job.cpu >= 0:
        os.sched_setaffinity(0, {job.cpu})
    return asyncio.run(drive(job))


LIFTED = {
    "X_ME_LIMIT_15MIN": "100000000",
    "X_TWEETS_PER_15MIN": "100000000",
    "X_TWEETS_PER_DAY_USER": "100000000",
    "X_TWEETS_PER_DAY_APP": "100000000",
    "HISTORY_POSTS": "0",
}


def sandbox_env(port: int) -> dict[str, str]:
    """Limits and caps out of the way: the benchmark measures the server, not its refusals."""
    lifted = {
        "X_ME_LIMIT_15MIN": "100000000",
        "X_TWEETS_PER_15MIN": "100000000",
        "X_TWEETS_PER_DAY_USER": "100000000",
        "X_TWEETS_PER_DAY_APP": "100000000",
        "HISTORY_POSTS": "0",
    }
    return {**os.environ, "SANDBOX_PORT": str(port)} | {
        f"SANDBOX_{k}": v for k, v in lifted.items()
    }


def prefill(base: str, tokens: list[str], posts: int) -> None:
    """Store ``posts`` tweets spread over the accounts before anything is measured."""
    if posts <= 0:
        return
    connections = 16
    job = Job(base, "tweets", tokens, 3_600, connections, -1, "prefill", -(-posts // connections))
    started = time.monotonic()
    ok, errors = asyncio.run(drive(job))
    print(f"prefill: {ok} posts stored ({errors} refused) in {time.monotonic() - started:.1f}s")


async def publish_cpu(client: httpx.AsyncClient, tokens: list[str], tag: str, count: int) -> float:
    """Milliseconds of CPU per publish (client and server share this process)."""
    started = time.process_time()
    for n in range(count):
        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        response = await client.post("/x/2/tweets", headers=headers, json={"text": f"{tag} {n}"})
        assert response.status_code == 201, response.text
    return (time.process_time() - started) / count * 1000


async def cpu_per_publish(accounts: int, stored: int, count: int = 400) -> None:
    settings = SandboxSettings.model_validate({k.lower(): v for k, v in LIFTED.items()})
    app = create_app(settings)
    state: SandboxState = app.state.sandbox
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        tokens = []
        for i in range(accounts):
            p = pkce()
            params = {**x_authorize_params(p.challenge), "sandbox_approve": f"bench{i}"}
            code = callback_params(await client.get("/x/i/oauth2/authorize", params=params))
            tokens.append(await x_token(client, code["code"], p.verifier))
        empty = await publish_cpu(client, tokens, "empty", count)
        owners = [state.tokens.by_value[t].account_id for t in tokens]
        now = state.clock.now()
        for i in range(stored):  # as if published through the API over the last hours
            owner = owners[i % len(owners)]
            state.add_post(
                Post("x", str(10**18 + i), owner, f"stored {i}", [], now - i, request={})
            )
        full = await publish_cpu(client, tokens, "full", count)
    print(f"CPU per publish, no posts stored: {empty:.2f} ms")
    print(f"CPU per publish, {stored:,} posts stored: {full:.2f} ms (ratio {full / empty:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="me")
    parser.add_argument("--accounts", type=int, default=1, help="X accounts to spread calls over")
    parser.add_argument("--prefill", type=int, default=0, help="tweets stored before measuring")
    parser.add_argument("--cpu-per-publish", action="store_true", help="in process, CPU time")
    args = parser.parse_args()
    if args.cpu_per_publish:
        asyncio.run(cpu_per_publish(max(args.accounts, 20), args.prefill or 15_000))
        return
    port = free_port()
    command = [sys.executable, "-m", "sandbox"]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(cpus[0]), *command]  # the server gets one core
    server = subprocess.Popen(command, env=sandbox_env(port))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/_sandbox/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        tokens = [connect_x(base, f"bench{i}") for i in range(args.accounts)]
        prefill(base, tokens, args.prefill)
        client_cpus = cpus[1:] or cpus
        rates = []
        for run in range(args.runs):
            jobs = [
                Job(
                    base,
                    args.endpoint,
                    tokens,
                    args.seconds,
                    args.concurrency,
                    client_cpus[i % len(client_cpus)],
                    f"run{run}.client{i}",
                )
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
        what = "GET /x/2/users/me" if args.endpoint == "me" else "POST /x/2/tweets"
        print(
            f"median: {statistics.median(rates):,.0f} req/s ({what}, {args.accounts} accounts, "
            f"{args.prefill} posts prefilled, server on 1 core, {args.clients} client processes)"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
