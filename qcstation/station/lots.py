"""Where the current lot stands: its counts; under ISO 2859-1 the drawn nets and the decision."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from .sampling import SamplingError, SamplingPlan, Switching, draw_sample, plan

logger = logging.getLogger(__name__)


class LotTracker:
    """Counts of one lot; with sampling, which net numbers to inspect and the lot's decision.

    `sampling` is the lot's stored sampling dict: {"mode": "iso2859-1", "level", "aql",
    "seed"} or None for every net. Nets are counted by label; a net inspected again (an error
    retried, sections of a long net) counts once, with its latest verdict.
    """

    def __init__(self, lot_id: int, name: str, quantity: int | None, sampling: dict | None,
                 switching: SwitchingState | None = None) -> None:
        self.lot_id, self.name, self.quantity = lot_id, name, quantity
        self.plan: SamplingPlan | None = None
        self.drawn: list[int] = []
        self._switching = switching
        self._lock = threading.Lock()
        self._verdicts: dict[str, str] = {}  # net label -> latest verdict
        self.inspected = self.passed = self.failed = self.errors = 0
        if sampling and sampling.get("mode", "iso2859-1") == "iso2859-1" and quantity:
            level, aql = sampling["level"], sampling["aql"]
            # the severity the lot was opened under (kept with the lot), else normal
            self.plan = plan(quantity, level, aql, sampling.get("severity", "normal"))
            seed = sampling.get("seed")
            self.drawn = draw_sample(quantity, self.plan.sample_size,
                                     name if seed is None else seed)
        self._drawn_set = {str(n) for n in self.drawn}
        self._recorded = False

    def count(self, net_label: str, verdict: str) -> None:
        with self._lock:
            self.inspected += 1
            self.passed += verdict == "pass"
            self.failed += verdict == "fail"
            self.errors += verdict == "error"
            if verdict != "error" or net_label not in self._verdicts:
                self._verdicts[net_label] = verdict
        self._record_decision()

    def next_net(self) -> str | None:
        """The next drawn net number not yet judged (sampling); None: the store numbers nets."""
        with self._lock:
            for n in self.drawn:
                if self._verdicts.get(str(n)) in (None, "error"):
                    return str(n)
        return None

    def sample_counts(self) -> tuple[int, int]:
        """(nets of the sample judged, nonconforming among them)."""
        with self._lock:
            judged = [v for k, v in self._verdicts.items() if k in self._drawn_set and v != "error"]
        return len(judged), judged.count("fail")

    def decision(self) -> str | None:
        if self.plan is None:
            return None
        k, d = self.sample_counts()
        return self.plan.decide(d, k)

    def _record_decision(self) -> None:
        decision = self.decision()
        if decision in ("accept", "reject") and not self._recorded and self._switching:
            self._recorded = True
            self._switching.record(self.lot_id, self.quantity or 0, self.sample_counts()[1])

    def status(self) -> dict:
        s: dict = {"id": self.lot_id, "name": self.name, "quantity": self.quantity,
                   "inspected": self.inspected, "passed": self.passed, "failed": self.failed,
                   "errors": self.errors, "nets": len(self._verdicts)}
        if self.plan is None:
            s["to_go"] = None if self.quantity is None else max(self.quantity - s["nets"], 0)
            s["sampling"] = {"mode": "all", "sample_size": None}
            return s
        k, d = self.sample_counts()
        s["to_go"] = self.plan.sample_size - k
        s["sampling"] = {"mode": "iso2859-1", "code": self.plan.code,
                         "severity": self.plan.severity, "sample_size": self.plan.sample_size,
                         "accept": self.plan.accept, "reject": self.plan.reject, "sampled": k,
                         "nonconforming": d, "decision": self.decision(),
                         "next_net": self.next_net()}
        return s


class SwitchingState:
    """The switching rules' state across lots, kept in a small JSON file in the data folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._data = json.loads(path.read_text())
        except FileNotFoundError:
            self._data = {"switching": None, "lots": []}
        except (OSError, ValueError) as e:
            logger.error("switching state %s unreadable (%s); starting on normal inspection",
                         path, e)
            self._data = {"switching": None, "lots": []}

    def get(self, level: str, aql: float) -> Switching:
        with self._lock:
            state = self._data.get("switching")
            if state and state["level"] == level and state["aql"] == aql:
                return Switching.from_json(state)
            return Switching(level, aql)

    def record(self, lot_id: int, lot_size: int, nonconforming: int) -> None:
        """One lot decided: move the switching rules on (each lot once)."""
        with self._lock:
            if lot_id in self._data["lots"] or not self._data.get("switching"):
                return
            sw = Switching.from_json(self._data["switching"])
            try:
                outcome = sw.record(lot_size, nonconforming)
            except SamplingError as e:
                logger.error("lot %s: %s", lot_id, e)
                return
            logger.info("lot %s %s; next lots on %s inspection", lot_id,
                        "accepted" if outcome.accepted else "not accepted", sw.severity)
            self._data = {"switching": sw.to_json(), "lots": self._data["lots"] + [lot_id]}
            self._save()

    def begin(self, level: str, aql: float) -> str:
        """Keeps the state of this level and AQL (another product starts on normal); returns
        the severity the next lot is inspected under."""
        with self._lock:
            state = self._data.get("switching")
            if not (state and state["level"] == level and state["aql"] == aql):
                self._data = {"switching": Switching(level, aql).to_json(), "lots": []}
                self._save()
            sw = Switching.from_json(self._data["switching"])
        if sw.discontinued:  # said plainly; judged on tightened until the supplier has acted
            logger.error("ISO 2859-1: inspection discontinued after 5 lots not accepted on "
                         "tightened inspection; the lot is judged on tightened inspection")
            return "tightened"
        return sw.severity

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data))
        os.replace(tmp, self.path)
