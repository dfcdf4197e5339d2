"""One bench row from several rounds of the same wrk run.

On two cores shared with wrk a single run swings by 10-30%: how uvicorn's
workers split the connections, and where the scheduler puts wrk, change from
one wrk run to the next (docs/performance.md). Each round runs the floor and
then Phonebook; a row reports the round with the median requests/s of each,
and its ratio is the median of the rounds' own ratios, each taken between runs
made moments apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from statistics import median_low


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


@dataclass(frozen=True)
class Settled:
    floor: Row  # the floor's median round
    phonebook: Row  # Phonebook's median round
    runs: tuple[tuple[Row, Row], ...]  # every round's (floor, phonebook), in order

    @property
    def rounds(self) -> int:
        return len(self.runs)

    @property
    def ratios(self) -> list[float]:
        """Each round's Phonebook requests/s to its floor's, taken moments apart."""
        return [
            pb.requests_per_s / fl.requests_per_s if fl.requests_per_s else 0.0
            for fl, pb in self.runs
        ]

    @property
    def ratio(self) -> float:
        """The rounds' median ratio (the lower of the two middle ones)."""
        return median_low(self.ratios)

    @property
    def phonebook_range(self) -> tuple[float, float]:
        """Phonebook's lowest and highest requests/s over the rounds."""
        rates = [pb.requests_per_s for _, pb in self.runs]
        return min(rates), max(rates)


def settle(rounds: list[tuple[Row, Row]]) -> Settled:
    """The row of each app from its (floor, phonebook) runs, one pair per round.

    A row stands for its median round (its p50, p99 and CPU come from the
    same run as its requests/s), and is valid only if every round was.
    """
    if not rounds:
        raise ValueError("no rounds to settle")
    return Settled(
        floor=_median_row([fl for fl, _ in rounds]),
        phonebook=_median_row([pb for _, pb in rounds]),
        runs=tuple(rounds),
    )


def _median_row(runs: list[Row]) -> Row:
    ordered = sorted(runs, key=lambda row: row.requests_per_s)
    middle = ordered[(len(ordered) - 1) // 2]  # an even count takes the lower of the two
    return replace(middle, valid=all(row.valid for row in runs))
