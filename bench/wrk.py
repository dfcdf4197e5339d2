"""wrk: the load generator, its scripts, and what its report says."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "wrk.lua.template"


def lua_script(path: Path, scenario: str, data: dict[str, Any], terms: list[str]) -> Path:
    template = Template(TEMPLATE.read_text())
    path.write_text(
        template.substitute(
            scenario=scenario,
            key=data["key"],
            list_key=data["list_key"],
            cmin=data["constituents"][0],
            cmax=data["constituents"][1],
            nmin=data["numbers"][0],
            nmax=data["numbers"][1],
            umin=data["updated_numbers"][0],
            umax=data["updated_numbers"][1],
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
