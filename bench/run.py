"""`make bench`: Phonebook against a bare ASGI floor, driven by wrk over loopback.

For each data size: seed a fresh database, start `phonebook serve` and the floor
(bench/floor.py, answering Phonebook's own bytes) on the same uvicorn with the
same worker count, then run wrk for every scenario at every connection count
against both. Prints requests/s, p50, p99 and errors, each as a ratio to the
floor measured in the same run, and writes everything to a JSON file. Any
non-2xx answer (or socket error) marks its row invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PHONEBOOK = BIN / "phonebook"
SCENARIOS = ("show", "list", "create", "update", "search", "mix")
LIST_SIZE = 25  # the list scenario reads constituents holding exactly 25 numbers
LIST_CONSTITUENTS = 200


@dataclass
class Row:
    size: int
    scenario: str
    connections: int
    app: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    valid: bool
    cpu_us_per_request: float  # the server's processes, user and system


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def phonebook(database: str, *args: str) -> list[str]:
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(PHONEBOOK), "--database", database, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.splitlines()


def resident_mb(pid: int) -> list[float]:
    """Resident memory of a process and its children (uvicorn workers), in MB."""
    sizes = []
    for each in _tree(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


@contextmanager
def server(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[tuple[str, int]]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server commands
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"server exited early, see {log}")
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code < 500:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server did not start, see {log}")
            time.sleep(0.1)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the whole group: uvicorn and its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tree(pid: int) -> list[int]:
    """A process and its children (uvicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process and its children have used so far.

    Per request, it moves less than requests/s between runs on a noisy machine:
    the time a request waits (for the writers' turn, for fsync) costs no CPU.
    """
    total = 0
    for each in _tree(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def fresh_database(backend: str, postgres_url: str, directory: Path, size: int) -> str:
    if backend == "sqlite":
        path = directory / f"bench-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"phonebook_bench_{size}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def seed(database: str, size: int) -> dict[str, Any]:
    """The bench account (size numbers over size/3 constituents) and the list account."""
    started = time.monotonic()
    phonebook(database, "migrate")
    lines = phonebook(
        database,
        "seed",
        "--constituents",
        str(max(1, size // 3)),
        "--numbers",
        str(size),
        "--account",
        "Bench",
    )
    seeded = time.monotonic() - started
    ranges = [tuple(map(int, r.split(".."))) for r in re.findall(r"\d+\.\.\d+", lines[-2])]
    account = lines[-1]
    list_lines = phonebook(
        database,
        "seed",
        "--constituents",
        str(LIST_CONSTITUENTS),
        "--numbers",
        str(LIST_CONSTITUENTS * LIST_SIZE),
        "--account",
        "Lists",
    )
    list_ranges = [
        tuple(map(int, r.split(".."))) for r in re.findall(r"\d+\.\.\d+", list_lines[-2])
    ]
    return {
        "key": phonebook(database, "keys", "create", account)[-1],
        "list_key": phonebook(database, "keys", "create", list_lines[-1])[-1],
        "constituents": ranges[0],
        "numbers": ranges[1],
        "list_constituents": list_ranges[0],
        "seed_seconds": round(seeded, 1),
    }


def sample_terms(base: str, data: dict[str, Any]) -> list[str]:
    """Seven-digit pieces of stored numbers: what a caller with a partial number types."""
    low, high = data["numbers"]
    step = max(1, (high - low) // 200)
    terms: list[str] = []
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {data['key']}"}) as client:
        for number_id in range(low, high + 1, step):
            digits = client.get(f"/api/v1/phone_numbers/{number_id}").json()["normalized_number"]
            if digits and len(digits) >= 9:
                terms.append(digits[2:9])
    return terms


def capture_bodies(base: str, data: dict[str, Any], terms: list[str]) -> dict[str, str]:
    """Phonebook's answer to one request of each kind: what the floor will send back."""
    auth = {"Authorization": f"Bearer {data['key']}"}
    number, constituent = data["numbers"][0], data["constituents"][0]
    with httpx2.Client(base_url=base, headers=auth) as client:
        lists = {"Authorization": f"Bearer {data['list_key']}"}
        bodies = {
            "show": client.get(f"/api/v1/phone_numbers/{number}"),
            "list": client.get(
                f"/api/v1/constituents/{data['list_constituents'][0]}/phone_numbers", headers=lists
            ),
            "create": client.post(
                f"/api/v1/constituents/{constituent}/phone_numbers",
                json={"number": "(555) 0100-1234"},
            ),
            "update": client.patch(
                f"/api/v1/phone_numbers/{number}", json={"number": "555-0210-1234"}
            ),
            "search": client.get(
                "/api/v1/constituents/search", params={"q[]": f"phone_number={terms[0]}"}
            ),
        }
    for name, response in bodies.items():
        if response.status_code != 200:
            raise SystemExit(f"{name}: Phonebook answered {response.status_code}: {response.text}")
    assert len(bodies["list"].json()["items"]) == LIST_SIZE
    return {name: response.text for name, response in bodies.items()}


def lua_script(path: Path, scenario: str, data: dict[str, Any], terms: list[str]) -> Path:
    template = Template((ROOT / "bench" / "wrk.lua.template").read_text())
    path.write_text(
        template.substitute(
            scenario=scenario,
            key=data["key"],
            list_key=data["list_key"],
            cmin=data["constituents"][0],
            cmax=data["constituents"][1],
            nmin=data["numbers"][0],
            nmax=data["numbers"][1],
            lmin=data["list_constituents"][0],
            lmax=data["list_constituents"][1],
            terms=", ".join(f'"{t}"' for t in terms),
        )
    )
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def run_wrk(base: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    threads = f"-t{min(2, connections)}"  # wrk needs a connection per thread
    command = ["wrk", threads, f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    out = subprocess.run(  # noqa: S603 - wrk from PATH, as make bench installs it
        [*command, base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


def bench_size(
    args: argparse.Namespace, size: int, out_dir: Path, memory: dict[int, list[float]]
) -> list[Row]:
    database = fresh_database(args.backend, args.postgres_url, out_dir, size)
    print(f"== {size:,} numbers on {args.backend}: seeding", flush=True)
    data = seed(database, size)
    print(f"   seeded in {data['seed_seconds']} s", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEBOOK_")}
    # The limiter runs on every request, as in production, but never trips the load.
    env["PHONEBOOK_RATE_LIMIT"] = "1000000000/minute"
    workers = str(args.workers)
    rows: list[Row] = []
    pb_port, floor_port = free_port(), free_port()
    pb_cmd = [
        str(PHONEBOOK),
        "--database",
        database,
        "serve",
        "--port",
        str(pb_port),
        "--workers",
        workers,
        "--no-access-log",
    ]
    with server(pb_cmd, env, pb_port, out_dir / f"phonebook-{size}.log") as (pb_base, pb_pid):
        terms = sample_terms(pb_base, data)
        bodies = out_dir / f"floor-bodies-{size}.json"
        bodies.write_text(json.dumps(capture_bodies(pb_base, data, terms)))
        floor_env = {**env, "PHONEBOOK_BENCH_FLOOR_BODIES": str(bodies), "PYTHONPATH": str(ROOT)}
        floor_cmd = [
            str(BIN / "uvicorn"),
            "bench.floor:app",
            "--port",
            str(floor_port),
            "--workers",
            workers,
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with server(floor_cmd, floor_env, floor_port, out_dir / f"floor-{size}.log") as (
            floor_base,
            floor_pid,
        ):
            apps = (("floor", floor_base, floor_pid), ("phonebook", pb_base, pb_pid))
            for scenario in args.scenarios:
                script = lua_script(out_dir / f"{scenario}.lua", scenario, data, terms)
                for connections in _connections(args, scenario):
                    for app, base, pid in apps:
                        cpu_before = cpu_seconds(pid)
                        result = run_wrk(base, script, connections, args.seconds)
                        cpu = (cpu_seconds(pid) - cpu_before) / max(1, result["requests"]) * 1e6
                        valid = result["non_2xx"] == 0 and result["socket_errors"] == 0
                        rows.append(
                            Row(
                                size,
                                scenario,
                                connections,
                                app,
                                valid=valid,
                                cpu_us_per_request=round(cpu, 1),
                                **result,
                            )
                        )
                    print_row(rows[-2], rows[-1])
        memory[size] = resident_mb(pb_pid)
        print(f"   phonebook resident memory after the run: {memory[size]} MB", flush=True)
    return rows


def _connections(args: argparse.Namespace, scenario: str) -> list[int]:
    """The connection counts of a scenario's rows.

    The reverse lookup also runs with one connection: its goal is a latency
    (p50 under 5 ms at 3M numbers), which 16 concurrent lookups on 2 workers
    measure as mostly time spent queueing.
    """
    counts: list[int] = args.connections
    return [1, *counts] if scenario in args.single_client and 1 not in counts else counts


def print_row(floor: Row, pb: Row) -> None:
    ratio = pb.requests_per_s / floor.requests_per_s if floor.requests_per_s else 0.0
    flag = "" if pb.valid and floor.valid else "  INVALID (non-2xx or socket errors)"
    print(
        f"   {pb.scenario:7} c={pb.connections:<3} phonebook {pb.requests_per_s:9,.0f} req/s "
        f"p50 {pb.p50_ms:6.2f} ms p99 {pb.p99_ms:7.2f} ms err {pb.non_2xx + pb.socket_errors:<5}"
        f"cpu {pb.cpu_us_per_request:5.0f} us/req "
        f"| floor {floor.requests_per_s:9,.0f} req/s p99 {floor.p99_ms:6.2f} ms "
        f"cpu {floor.cpu_us_per_request:4.0f} us/req | ratio {ratio:5.1%}{flag}",
        flush=True,
    )


def summary(rows: list[Row], sizes: list[int]) -> list[dict[str, Any]]:
    """Each Phonebook figure at the largest size as a ratio of the same figure at the smallest."""
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    index = {(r.size, r.scenario, r.connections, r.app): r for r in rows}
    out = []
    for r in rows:
        if r.size != small or r.app != "phonebook":
            continue
        big = index[(large, r.scenario, r.connections, "phonebook")]
        out.append(
            {
                "scenario": r.scenario,
                "connections": r.connections,
                "rps_large_over_small": round(big.requests_per_s / r.requests_per_s, 3),
                "p50_ms_small": r.p50_ms,
                "p50_ms_large": big.p50_ms,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workers", type=int, default=2, help="as the goals in the issue")
    parser.add_argument("--sizes", default="10000,3000000", help="numbers per run, comma-separated")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--single-client",
        default="search",
        help="scenarios also run with 1 connection, for their latency ('' for none)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    args.scenarios = args.scenarios.split(",")
    args.single_client = [s for s in args.single_client.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs it)")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    memory: dict[int, list[float]] = {}
    rows = [row for size in sizes for row in bench_size(args, size, out_dir, memory)]
    result = {
        "started": started,
        "backend": args.backend,
        "workers": args.workers,
        "seconds_per_run": args.seconds,
        "rows": [asdict(r) for r in rows],
        "resident_mb_after_run": memory,
        "large_over_small": summary(rows, sizes),
    }
    path = out_dir / f"bench-{args.backend}-{started}.json"
    path.write_text(json.dumps(result, indent=2))
    for line in result["large_over_small"]:
        print(
            f"   {line['scenario']:7} c={line['connections']:<3} large/small req/s "
            f"{line['rps_large_over_small']:.2f}  p50 {line['p50_ms_small']:.2f} -> "
            f"{line['p50_ms_large']:.2f} ms"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
