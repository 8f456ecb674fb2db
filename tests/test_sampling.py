"""ISO 2859-1 single sampling against the standard's published cells, and the switching rules."""

from __future__ import annotations

import pytest

from qcstation.station.sampling import (
    SamplingError,
    Switching,
    code_letter,
    draw_sample,
    plan,
)

# Table 1 (lot size, level) -> code letter, as printed in the standard
CODES = [
    (5400, "II", "L"), (1000, "II", "J"), (2000, "II", "K"), (8, "II", "A"), (9, "II", "B"),
    (500, "II", "H"), (501, "II", "J"), (3200, "II", "K"), (3201, "II", "L"),
    (10001, "II", "M"), (600000, "II", "Q"), (600000, "III", "R"), (5400, "I", "J"),
    (5400, "III", "M"), (5400, "S-1", "C"), (5400, "S-2", "D"), (5400, "S-3", "F"),
    (5400, "S-4", "G"), (1000, "S-4", "F"), (2, "III", "B"),
]


@pytest.mark.parametrize("lot, level, letter", CODES)
def test_code_letters(lot, level, letter):
    assert code_letter(lot, level) == letter


# (lot, level, AQL, severity) -> (code used, n, Ac, Re), published cells of Tables 2-A..2-C
PLANS = [
    ((5400, "II", 2.5, "normal"), ("L", 200, 10, 11)),
    ((5400, "II", 1.0, "normal"), ("L", 200, 5, 6)),
    ((5400, "II", 4.0, "normal"), ("L", 200, 14, 15)),
    ((5400, "II", 6.5, "normal"), ("L", 200, 21, 22)),
    ((5400, "II", 0.65, "normal"), ("L", 200, 3, 4)),
    ((5400, "II", 1.5, "normal"), ("L", 200, 7, 8)),
    ((1000, "II", 1.0, "normal"), ("J", 80, 2, 3)),
    ((1000, "II", 2.5, "normal"), ("J", 80, 5, 6)),
    ((1000, "II", 0.65, "normal"), ("J", 80, 1, 2)),
    ((2000, "II", 2.5, "normal"), ("K", 125, 7, 8)),
    ((2000, "II", 0.65, "normal"), ("K", 125, 2, 3)),
    ((400, "II", 2.5, "normal"), ("H", 50, 3, 4)),
    ((200, "II", 2.5, "normal"), ("G", 32, 2, 3)),
    ((100, "II", 2.5, "normal"), ("F", 20, 1, 2)),
    ((5400, "II", 2.5, "tightened"), ("L", 200, 8, 9)),
    ((5400, "II", 1.0, "tightened"), ("L", 200, 3, 4)),
    ((5400, "II", 4.0, "tightened"), ("L", 200, 12, 13)),
    ((2000, "II", 0.65, "tightened"), ("K", 125, 1, 2)),
    ((5400, "II", 2.5, "reduced"), ("L", 80, 5, 6)),  # 1999 edition: Re = Ac + 1
    # arrows: E at AQL 2.5 points down to F (n=20, 1/2); D at 2.5 points up to C (n=5, 0/1)
    ((60, "II", 2.5, "normal"), ("F", 20, 1, 2)),
    ((40, "II", 2.5, "normal"), ("C", 5, 0, 1)),
    # K at AQL 0.10 is 0/1; L at 0.10 points up to it (n=125)
    ((5400, "II", 0.10, "normal"), ("K", 125, 0, 1)),
    # a lot smaller than the sample: every net
    ((3, "II", 0.010, "normal"), ("Q", 3, 0, 1)),
]


@pytest.mark.parametrize("args, expected", PLANS, ids=[str(a) for a, _ in PLANS])
def test_published_plans(args, expected):
    p = plan(*args)
    assert (p.code, p.sample_size, p.accept, p.reject) == expected
    assert p.lot_code == code_letter(args[0], args[1])


@pytest.mark.parametrize("severity", ["normal", "tightened", "reduced"])
@pytest.mark.parametrize("level", ["I", "II", "III", "S-1", "S-4"])
def test_every_cell_resolves_to_a_plan(severity, level):
    for lot in (2, 50, 1000, 5400, 100000, 10**6):
        for aql in (0.010, 0.1, 1.0, 2.5, 10, 100, 1000):
            p = plan(lot, level, aql, severity)
            assert 0 <= p.accept < p.reject and 1 <= p.sample_size <= max(lot, 3150)


def test_tightened_never_looser_than_normal():
    for lot in (100, 1000, 5400, 50000):
        for aql in (0.65, 1.0, 2.5, 4.0, 6.5):
            n, t = plan(lot, "II", aql), plan(lot, "II", aql, "tightened")
            assert t.accept / t.sample_size <= n.accept / n.sample_size


@pytest.mark.parametrize("bad, match", [
    (lambda: plan(5400, "IV", 2.5), "level"),
    (lambda: plan(5400, "II", 2.0), "preferred"),
    (lambda: plan(1, "II", 2.5), "too small"),
    (lambda: draw_sample(10, 11, 1), "cannot"),
])
def test_refusals(bad, match):
    with pytest.raises(SamplingError, match=match):
        bad()


def test_draw_sample_reproducible_and_in_range():
    a, b = draw_sample(5400, 200, "lot-7"), draw_sample(5400, 200, "lot-7")
    assert a == b and len(set(a)) == 200 and a == sorted(a)
    assert a[0] >= 1 and a[-1] <= 5400
    assert draw_sample(5400, 200, "lot-8") != a


@pytest.mark.parametrize("d, inspected, decision", [
    (10, 200, "accept"), (11, 200, "reject"), (0, 150, "open"), (11, 150, "reject"),
    (0, 200, "accept"),
])
def test_lot_decision(d, inspected, decision):
    assert plan(5400, "II", 2.5).decide(d, inspected) == decision


# switching rules: a sequence of lots (nonconforming counts at lot 5400, II, AQL 2.5; normal
# Ac 10, tightened Ac 8, reduced Ac 5) and the severity after each lot
BAD_N, GOOD = 11, 0
SWITCHING = [
    ("2 of 5 rejected -> tightened", [BAD_N, GOOD, BAD_N], ["normal", "normal", "tightened"]),
    ("2 rejected 5 apart stay normal", [BAD_N, GOOD, GOOD, GOOD, GOOD, BAD_N],
     ["normal"] * 6),
    ("tightened -> normal after 5 accepted", [BAD_N, BAD_N] + [GOOD] * 5,
     ["normal", "tightened"] + ["tightened"] * 4 + ["normal"]),
    ("tightened: 9 nonconforming is a rejection", [BAD_N, BAD_N, 9, 8, 8, 8, 8, 8],
     ["normal", "tightened", "tightened", "tightened", "tightened", "tightened", "tightened",
      "normal"]),
    # accepted with Ac >= 2 and within the tighter AQL's Ac (1.5: 7): +3 each; 10 lots -> 30
    ("score 30 -> reduced", [GOOD] * 10, ["normal"] * 9 + ["reduced"]),
    ("score reset by a lot above the tighter Ac", [GOOD] * 9 + [8] + [GOOD] * 10,
     ["normal"] * 19 + ["reduced"]),
    ("reduced -> normal on a rejection", [GOOD] * 10 + [GOOD, 6],
     ["normal"] * 9 + ["reduced", "reduced", "normal"]),
]


@pytest.mark.parametrize("case, lots, severities", SWITCHING, ids=[c[0] for c in SWITCHING])
def test_switching(case, lots, severities):
    sw = Switching("II", 2.5)
    seen = []
    for d in lots:
        sw.record(5400, d)
        seen.append(sw.severity)
    assert seen == severities


def test_reduced_needs_steady_production():
    sw = Switching("II", 2.5, production_steady=False)
    for _ in range(12):
        sw.record(5400, 0)
    assert sw.severity == "normal" and sw.score >= 30
    sw.record(5400, 0, production_steady=True)
    assert sw.severity == "reduced"
    sw.record(5400, 0, production_steady=False)
    assert sw.severity == "normal"


def test_small_acceptance_numbers_score_two_per_accepted_lot():
    sw = Switching("II", 0.65)  # lot 1000: J, n=80, Ac 1
    for _ in range(14):
        sw.record(1000, 1)
    assert sw.severity == "normal" and sw.score == 28
    sw.record(1000, 0)
    assert sw.severity == "reduced"


def test_discontinue_after_five_rejections_on_tightened():
    sw = Switching("II", 2.5)
    sw.record(5400, BAD_N)
    sw.record(5400, BAD_N)
    assert sw.severity == "tightened"
    for d in (9, 0, 9, 9, 0, 9, 9):
        sw.record(5400, d)
    assert sw.discontinued
    with pytest.raises(SamplingError, match="discontinued"):
        sw.plan(5400)
    sw.resume()
    assert sw.severity == "tightened" and sw.plan(5400).accept == 8


def test_switching_state_survives_a_restart():
    sw = Switching("II", 2.5)
    for d in (BAD_N, 0, 0):
        sw.record(5400, d)
    again = Switching.from_json(sw.to_json())
    again.record(5400, BAD_N)
    assert again.severity == "tightened"
