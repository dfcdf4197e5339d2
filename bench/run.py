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
import shutil
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as `python bench/run.py`: its siblings import as `bench`
    sys.path.insert(0, str(ROOT))

from bench.dataset import PHONEBOOK, capture_bodies, fresh_database, sample_terms, seed  # noqa: E402
from bench.rounds import Row, Settled, settle  # noqa: E402
from bench.servers import cpu_seconds, free_port, resident_mb, server  # noqa: E402
from bench.wrk import lua_script, run_wrk  # noqa: E402

BIN = Path(sys.executable).parent
SCENARIOS = ("show", "list", "create", "update", "search", "mix")


def bench_size(
    args: argparse.Namespace, size: int, out_dir: Path, memory: dict[int, list[float]]
) -> list[Settled]:
    database = fresh_database(args.backend, args.postgres_url, out_dir, size)
    print(f"== {size:,} numbers on {args.backend}: seeding", flush=True)
    data = seed(database, size)
    print(f"   seeded in {data['seed_seconds']} s", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEBOOK_")}
    # The limiter runs on every request, as in production, but never trips the load.
    env["PHONEBOOK_RATE_LIMIT"] = "1000000000/minute"
    workers = str(args.workers)
    rows: list[Settled] = []
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
                    rounds = []
                    for _ in range(args.rounds):  # the floor, then Phonebook, each round
                        floor, pb = [
                            _run(app, base, pid, script, size, scenario, connections, args.seconds)
                            for app, base, pid in apps
                        ]
                        rounds.append((floor, pb))
                    rows.append(settle(rounds))
                    print_row(rows[-1])
        memory[size] = resident_mb(pb_pid)
        print(f"   phonebook resident memory after the run: {memory[size]} MB", flush=True)
    return rows


def _run(
    app: str,
    base: str,
    pid: int,
    script: Path,
    size: int,
    scenario: str,
    connections: int,
    seconds: int,
) -> Row:
    """One wrk run against one app, with the CPU its processes spent on it."""
    cpu_before = cpu_seconds(pid)
    result = run_wrk(base, script, connections, seconds)
    cpu = (cpu_seconds(pid) - cpu_before) / max(1, result["requests"]) * 1e6
    valid = result["non_2xx"] == 0 and result["socket_errors"] == 0
    return Row(
        size, scenario, connections, app, valid=valid, cpu_us_per_request=round(cpu, 1), **result
    )


def _connections(args: argparse.Namespace, scenario: str) -> list[int]:
    """The connection counts of a scenario's rows.

    The reverse lookup also runs with one connection: its goal is a latency
    (p50 under 5 ms at 3M numbers), which 16 concurrent lookups on 2 workers
    measure as mostly time spent queueing.
    """
    counts: list[int] = args.connections
    return [1, *counts] if scenario in args.single_client and 1 not in counts else counts


def print_row(row: Settled) -> None:
    pb, floor = row.phonebook, row.floor
    flag = "" if pb.valid and floor.valid else "  INVALID (non-2xx or socket errors)"
    spread = ""
    if row.rounds > 1:
        (low, high), ratios = row.phonebook_range, row.ratios
        spread = (
            f" ({min(ratios):.1%}-{max(ratios):.1%} over {row.rounds} rounds; "
            f"phonebook {low:,.0f}-{high:,.0f} req/s)"
        )
    print(
        f"   {pb.scenario:7} c={pb.connections:<3} phonebook {pb.requests_per_s:9,.0f} req/s "
        f"p50 {pb.p50_ms:6.2f} ms p99 {pb.p99_ms:7.2f} ms err {pb.non_2xx + pb.socket_errors:<5}"
        f"cpu {pb.cpu_us_per_request:5.0f} us/req "
        f"| floor {floor.requests_per_s:9,.0f} req/s p99 {floor.p99_ms:6.2f} ms "
        f"cpu {floor.cpu_us_per_request:4.0f} us/req | ratio {row.ratio:5.1%}{spread}{flag}",
        flush=True,
    )


def summary(rows: list[Settled], sizes: list[int]) -> list[dict[str, Any]]:
    """Each Phonebook figure at the largest size as a ratio of the same figure at the smallest."""
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    index = {(s.phonebook.size, s.phonebook.scenario, s.phonebook.connections): s for s in rows}
    out = []
    for s in rows:
        r = s.phonebook
        if r.size != small:
            continue
        big = index[(large, r.scenario, r.connections)].phonebook
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of each row, floor and Phonebook in turn; the row reports the median",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument(
        "--single-client",
        default="search",
        help="scenarios also run with 1 connection, for their latency ('' for none)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
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
        "rounds": args.rounds,
        # Each row: the median round of each app (bench/rounds.py), floor first.
        "rows": [asdict(r) for s in rows for r in (s.floor, s.phonebook)],
        "ratios": [
            {
                "size": s.phonebook.size,
                "scenario": s.phonebook.scenario,
                "connections": s.phonebook.connections,
                "ratio": round(s.ratio, 4),
                "lowest": round(min(s.ratios), 4),
                "highest": round(max(s.ratios), 4),
                "phonebook_requests_per_s_range": s.phonebook_range,
            }
            for s in rows
        ],
        "every_run": [asdict(r) for s in rows for pair in s.runs for r in pair],
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
