"""The layering stays honest: the pure core imports no I/O module (checked on the source)."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "qcstation"
CORE = ["domain", "spec", "judge", "rectify", "segment", "mesh", "structural", "quality",
        "pipeline", "overlay", "evaluate", "calibration", "calibration_format", "threads"]
IO = {"imageio", "calibration_io", "cli", "onnxruntime", "sqlite3", "psycopg", "paho",
      "fastapi", "uvicorn", "torch", "synth", "train"}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            names.add(mod.split(".")[0] if node.level == 0 else mod.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_io(module):
    bad = imported(PKG / f"{module}.py") & IO
    assert not bad, f"qcstation/{module}.py imports {bad}"


def test_only_the_model_runtime_imports_onnxruntime():
    users = [p.relative_to(PKG).as_posix() for p in PKG.rglob("*.py")
             if "onnxruntime" in imported(p)]
    assert users in ([], ["model/runtime.py"])
