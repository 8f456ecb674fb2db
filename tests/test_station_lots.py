"""The lot's progress: counts by net, the drawn sample, the decision, switching across lots."""

from __future__ import annotations

from qcstation.station.lots import LotTracker, SwitchingState
from qcstation.station.sampling import draw_sample, plan

ISO = {"mode": "iso2859-1", "level": "II", "aql": 2.5}


def test_every_net_mode_counts_each_net_once_with_its_latest_verdict():
    t = LotTracker(1, "L", 10, None)
    for net, v in [("1", "pass"), ("2", "error"), ("2", "fail"), ("3", "pass")]:
        t.count(net, v)
    s = t.status()
    assert (s["inspected"], s["passed"], s["failed"], s["errors"], s["nets"]) == (4, 2, 1, 1, 3)
    assert s["to_go"] == 7 and s["sampling"]["sample_size"] is None and t.next_net() is None


def test_sampling_hands_out_the_drawn_nets_and_decides():
    t = LotTracker(1, "PTC-1", 5400, ISO)
    drawn = draw_sample(5400, 200, "PTC-1")  # seeded by the lot name
    assert t.drawn == drawn and t.plan == plan(5400, "II", 2.5)
    assert t.next_net() == str(drawn[0])
    t.count(str(drawn[0]), "error")  # an error is no judgement: the net is asked again
    assert t.next_net() == str(drawn[0])
    for k, n in enumerate(drawn):
        t.count(str(n), "fail" if k < 10 else "pass")
        assert t.decision() == ("accept" if k == 199 else "open")
    t.count("9999", "fail")  # a net outside the sample does not count toward the decision
    assert t.sample_counts() == (200, 10) and t.decision() == "accept"
    assert t.status()["to_go"] == 0


def test_reject_as_soon_as_the_rejection_number_is_reached():
    t = LotTracker(1, "PTC-2", 5400, ISO)
    for n in t.drawn[:11]:
        t.count(str(n), "fail")
    assert t.decision() == "reject" and t.status()["to_go"] == 189


def test_switching_state_moves_across_lots_and_survives_restarts(tmp_path):
    path = tmp_path / "sampling-state.json"
    for k in (1, 2):  # two lots rejected in a row: the next is tightened
        state = SwitchingState(path)
        severity = state.begin("II", 2.5)
        assert severity == "normal"
        t = LotTracker(k, f"L{k}", 5400, ISO | {"severity": severity}, state)
        for n in t.drawn[:11]:
            t.count(str(n), "fail")
        t.count(str(t.drawn[11]), "fail")  # decided once; more fails change nothing
    again = SwitchingState(path)
    assert again.begin("II", 2.5) == "tightened"
    t = LotTracker(3, "L3", 5400, ISO | {"severity": "tightened"})
    assert (t.plan.accept, t.plan.reject) == (8, 9)
    assert SwitchingState(path).begin("II", 1.0) == "normal"  # another AQL starts afresh
