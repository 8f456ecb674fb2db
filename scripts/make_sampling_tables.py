"""Writes qcstation/station/data/iso2859-1.json: ISO 2859-1:1999 single sampling tables.

The master tables are diagonal: moving one code letter down and one AQL step left keeps the
plan, so each cell's plan depends on (letter index + AQL index). This script writes every cell
out once; the package reads the JSON (the tables are data, reviewed as data).
"""

from __future__ import annotations

import json
from pathlib import Path

AQL = [0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65, 1.0, 1.5, 2.5, 4.0,
       6.5, 10, 15, 25, 40, 65, 100, 150, 250, 400, 650, 1000]
LETTERS = "ABCDEFGHJKLMNPQRS"
LOTS = [[2, 8], [9, 15], [16, 25], [26, 50], [51, 90], [91, 150], [151, 280], [281, 500],
        [501, 1200], [1201, 3200], [3201, 10000], [10001, 35000], [35001, 150000],
        [150001, 500000], [500001, None]]
# Table 1: code letter per lot-size row, for each inspection level
CODES = {
    "S-1": "AAAABBBBCCCCDDD", "S-2": "AAABBBCCCDDDEEE", "S-3": "AABBCCDDEEFFGGH",
    "S-4": "AABCCDEEFGGHJJK", "I": "AABCCDEFGHJKLMN", "II": "ABCDEFGHJKLMNPQ",
    "III": "BCDEFGHJKLMNPQR",
}
SIZES = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 3150]
# (letter index + AQL index) -> cell; below the first key: "down", above the last: "up"
NORMAL = {14: "0/1", 15: "up", 16: "down", 17: "1/2", 18: "2/3", 19: "3/4", 20: "5/6",
          21: "7/8", 22: "10/11", 23: "14/15", 24: "21/22", 25: "30/31", 26: "44/45"}
TIGHTENED = {16: "0/1", 17: "down", 18: "1/2", 19: "2/3", 20: "3/4", 21: "5/6", 22: "8/9",
             23: "12/13", 24: "18/19", 25: "27/28", 26: "41/42"}
BIG = 25  # plans with Ac of about 30 and over are given for code letters A..E only


def row(i: int, diag: dict[int, str], last: int) -> list[str]:
    cells = []
    for j in range(len(AQL)):
        s = i + j
        if s < min(diag):
            c = "down"
        elif s > max(diag) or (s >= BIG and i > 4):
            c = "up"
        else:
            c = diag[s]
        if c == "down" and i == last:  # no row below the last: its own next plan
            c = diag[min(k for k in diag if k > s and "/" in diag[k])]
        if c == "up" and i == 0:  # no row above A: the first plan below
            c = "down"
        cells.append(c)
    return cells


def main() -> None:
    normal = {LETTERS[i]: row(i, NORMAL, 15) for i in range(16)}
    tightened = {LETTERS[i]: row(i, TIGHTENED, 16) for i in range(17)}
    # ISO 2859-1:1999 Table 2-C: reduced inspection takes the plan of two code letters lower
    # (samples of at least 2), with Re = Ac + 1 as in normal inspection
    reduced = {LETTERS[i]: normal[LETTERS[max(i - 2, 0)]] for i in range(16)}
    for k in "AB":  # rows A and B repeat C's plans, with n = 2; arrows move down to D
        reduced[k] = ["down" if c == "up" else c for c in reduced["C"]]
    last = reduced["R"]  # no row below R: a down arrow there takes the row's next plan
    reduced["R"] = [c if c != "down" else next(x for x in last[j:] if "/" in x)
                    for j, c in enumerate(last)]
    data = {
        "standard": "ISO 2859-1:1999 (= ANSI/ASQ Z1.4) single sampling, Tables 1, 2-A, 2-B, 2-C",
        "aql": AQL,
        "lot_sizes": LOTS,
        "code_letters": {k: list(v) for k, v in CODES.items()},
        "normal": {"sample_size": dict(zip(LETTERS[:16], SIZES[:16], strict=True)),
                   "plans": normal},
        "tightened": {"sample_size": dict(zip(LETTERS, SIZES, strict=True)), "plans": tightened},
        "reduced": {"sample_size": dict(zip(LETTERS[:16], [2, 2] + SIZES[:14], strict=True)),
                    "plans": reduced},
    }
    out = Path(__file__).parents[1] / "qcstation/station/data/iso2859-1.json"
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
