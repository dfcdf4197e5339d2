"""A real `phonebook serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

# The console script beside the interpreter running the tests: the installed entry point.
PHONEBOOK = Path(sys.executable).parent / "phonebook"
SERVER_START_TIMEOUT_S = 15.0


def clean_env(**extra: str) -> dict[str, str]:
    """The outer environment without any PHONEBOOK_* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEBOOK_")}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    """Poll /healthz until it answers 200; fail early if the server exits, late at the bound."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with httpx2.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if client.get(f"{base_url}/healthz").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)  # between polls only; no assertion depends on it
    pytest.fail(f"server not healthy within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serving(
    database_url: str,
    log_dir: Path,
    command: Sequence[str] = (str(PHONEBOOK),),
    serve_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`<command> --database URL serve --port P <serve_args>`, yielded once /healthz is 200.

    env: PHONEBOOK_* settings for the server; the outer ones never reach it.

    The process is always stopped on the way out (killed if still running).
    Its output goes to a file, so a chatty server never blocks on a full pipe.
    """
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            [*command, "--database", database_url, "serve", "--port", str(port), *serve_args],
            cwd=log_dir,
            env=clean_env(**(env or {})),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers are stopped with it
        )
    try:
        server = Server(f"http://127.0.0.1:{port}", process, log)
        wait_until_healthy(process, server.base_url, log)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left of it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
