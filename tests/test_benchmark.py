"""The speed benchmark still runs end to end (on small frames, one round): every column of its
table is filled. It measures nothing here; the README quotes its full run."""

import re
import subprocess
import sys


def test_benchmark_prints_a_full_table_row():
    out = subprocess.run(
        [sys.executable, "benchmarks/bench_inspect.py", "--sizes", "800x600", "--repeats", "1"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout
    row = next(line for line in out.splitlines() if line.startswith("| 800x600 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 11
    assert cells[1] == "defects-v4q"  # the shipped model by default
    assert all(float(c.rstrip("x")) > 0 for c in cells[2:])
    assert re.search(r"BGR-to-grey floor \d+\.\d+ ms", out)
