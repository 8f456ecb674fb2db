"""ISO 2859-1 (ANSI/ASQ Z1.4) single sampling: plans, the sample drawn, lot decisions, switching."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from ..errors import QCError

Severity = Literal["normal", "tightened", "reduced"]
LEVELS = ("I", "II", "III", "S-1", "S-2", "S-3", "S-4")


class SamplingError(QCError):
    """A sampling request outside the standard (unknown level, AQL or lot size)."""


@dataclass(frozen=True)
class SamplingPlan:
    """One single sampling plan: inspect `sample_size` nets; accept with at most `accept` bad."""

    code: str  # the code letter of the plan used (after following the table's arrows)
    sample_size: int
    accept: int
    reject: int
    severity: Severity = "normal"
    lot_code: str = ""  # the lot's own code letter (Table 1)

    def decide(self, nonconforming: int, inspected: int) -> Literal["accept", "reject", "open"]:
        """The lot's decision so far: reject once d >= Re, accept when the sample is done."""
        if nonconforming >= self.reject:
            return "reject"
        return "accept" if inspected >= self.sample_size else "open"


@cache
def _tables() -> dict:
    text = resources.files(__package__).joinpath("data/iso2859-1.json").read_text("utf-8")
    return json.loads(text)


def preferred_aqls() -> tuple[float, ...]:
    return tuple(_tables()["aql"])


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table 1: the sample size code letter for a lot size and an inspection level."""
    t = _tables()
    if level not in t["code_letters"]:
        raise SamplingError(f"inspection level {level!r} is unknown; use one of {LEVELS}.")
    if lot_size < 2:
        raise SamplingError(f"lot size {lot_size} is too small; a lot has at least 2 nets.")
    for row, (lo, hi) in enumerate(t["lot_sizes"]):
        if lot_size >= lo and (hi is None or lot_size <= hi):
            return t["code_letters"][level][row]
    raise AssertionError("lot size rows cover every size from 2")


def plan(lot_size: int, level: str, aql: float, severity: Severity = "normal") -> SamplingPlan:
    """The single sampling plan (Tables 2-A, 2-B, 2-C), following the arrows to another row."""
    t = _tables()
    if severity not in ("normal", "tightened", "reduced"):
        raise SamplingError(f"severity {severity!r} is unknown; use normal, tightened or reduced.")
    j = _aql_index(aql)
    lot_code = code_letter(lot_size, level)
    table = t[severity]
    letters = list(table["plans"])
    i = letters.index(lot_code)
    for _ in letters:  # arrows never loop; at most one pass over the rows
        cell = table["plans"][letters[i]][j]
        if cell == "down":
            i += 1
        elif cell == "up":
            i -= 1
        else:
            ac, re_ = (int(x) for x in cell.split("/"))
            n = table["sample_size"][letters[i]]
            # a sample as large as the lot: every net is inspected, the same numbers decide
            return SamplingPlan(letters[i], min(n, lot_size), ac, re_, severity, lot_code)
    raise AssertionError(f"arrows of {severity} table do not end for {lot_code} at AQL {aql}")


def _aql_index(aql: float) -> int:
    for j, v in enumerate(preferred_aqls()):
        if abs(v - aql) < 1e-9 * max(v, 1.0):
            return j
    raise SamplingError(f"AQL {aql} is not one of the standard's preferred values "
                        f"({', '.join(f'{v:g}' for v in preferred_aqls())}).")


def draw_sample(lot_size: int, n: int, seed: int | str) -> list[int]:
    """Which net numbers (1..lot_size) to inspect: n of them at random, reproducible by seed."""
    if not 0 <= n <= lot_size:
        raise SamplingError(f"a sample of {n} cannot be drawn from a lot of {lot_size}.")
    return sorted(random.Random(str(seed)).sample(range(1, lot_size + 1), n))


@dataclass(frozen=True)
class LotOutcome:
    accepted: bool
    nonconforming: int
    plan: SamplingPlan


class Switching:
    """The switching rules (ISO 2859-1:1999 clause 9) across consecutive lots of one product.

    normal -> tightened: 2 of at most 5 consecutive lots not accepted; tightened -> normal: 5
    consecutive lots accepted; normal -> reduced: the switching score reaches 30 (and the
    production is steady and the authority approves: `production_steady`); reduced -> normal:
    a lot not accepted or production irregular; 5 lots not accepted while on tightened:
    inspection discontinued until the supplier has acted (`resume()`).
    """

    def __init__(self, level: str = "II", aql: float = 2.5, production_steady: bool = True) -> None:
        _aql_index(aql)
        self.level, self.aql, self.production_steady = level, aql, production_steady
        self.severity: Severity = "normal"
        self.discontinued = False
        self.score = 0
        self._recent: list[bool] = []  # accepted?, the lots since entering the current severity
        self._tightened_rejects = 0

    def plan(self, lot_size: int) -> SamplingPlan:
        if self.discontinued:
            raise SamplingError("inspection is discontinued after 5 lots not accepted on "
                                "tightened inspection; resume once the supplier has acted.")
        return plan(lot_size, self.level, self.aql, self.severity)

    def record(self, lot_size: int, nonconforming: int, production_steady: bool | None = None
               ) -> LotOutcome:
        """Record one lot's result on original inspection and move to the next severity."""
        p = self.plan(lot_size)
        accepted = nonconforming <= p.accept
        if production_steady is not None:
            self.production_steady = production_steady
        if self.severity == "normal":
            self._update_score(p, lot_size, nonconforming, accepted)
        self._recent.append(accepted)
        self._switch(accepted)
        return LotOutcome(accepted, nonconforming, p)

    def _update_score(self, p: SamplingPlan, lot_size: int, d: int, accepted: bool) -> None:
        if not accepted:
            self.score = 0
        elif p.accept >= 2:  # accepted even one AQL step tighter: +3, else back to 0
            self.score = self.score + 3 if d <= self._tighter_accept(p, lot_size) else 0
        else:
            self.score += 2

    def _tighter_accept(self, p: SamplingPlan, lot_size: int) -> int:
        j = _aql_index(self.aql)
        if j == 0:
            return -1
        tighter = plan(lot_size, self.level, preferred_aqls()[j - 1], "normal")
        return tighter.accept if tighter.sample_size == p.sample_size else p.accept - 1

    def _switch(self, accepted: bool) -> None:
        recent = self._recent[-5:]
        if self.severity == "normal":
            if recent.count(False) >= 2:
                self._enter("tightened")
            elif self.score >= 30 and self.production_steady:
                self._enter("reduced")
        elif self.severity == "tightened":
            self._tightened_rejects += not accepted
            if self._tightened_rejects >= 5:
                self.discontinued = True
            elif len(recent) == 5 and all(recent):
                self._enter("normal")
        elif not accepted or not self.production_steady:
            self._enter("normal")

    def _enter(self, severity: Severity) -> None:
        self.severity = severity
        self._recent = []
        self.score = 0
        self._tightened_rejects = 0

    def resume(self) -> None:
        """After the supplier's corrective action: tightened inspection again."""
        self.discontinued = False
        self._enter("tightened")

    def to_json(self) -> dict:
        """The state to keep across restarts (see `from_json`)."""
        return {"level": self.level, "aql": self.aql, "severity": self.severity,
                "discontinued": self.discontinued, "score": self.score, "recent": self._recent,
                "tightened_rejects": self._tightened_rejects}

    @classmethod
    def from_json(cls, data: dict) -> Switching:
        sw = cls(data["level"], data["aql"])
        sw.severity, sw.discontinued = data["severity"], bool(data["discontinued"])
        sw.score, sw._recent = int(data["score"]), [bool(x) for x in data["recent"]]
        sw._tightened_rejects = int(data["tightened_rejects"])
        return sw
