"""Shipped files are found in a source checkout and in a regular install's share/ folder."""

import sys
import tomllib
from pathlib import Path

from qcstation import resources

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_copy_first():
    assert resources.shipped("models/defects-v1.onnx") == ROOT / "models" / "defects-v1.onnx"
    assert resources.shipped("specs/kr-coirnet-25.toml").is_file()


def test_installed_copy_when_not_in_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    model = tmp_path / "venv" / "share" / "qcstation" / "models" / "defects-v1.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"onnx")
    assert resources.shipped("models/defects-v1.onnx") == model


def test_every_shipped_model_and_spec_is_in_the_install_data():
    """pyproject's data-files list what a regular install copies; nothing may be left out."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    listed = {f for files in data.values() for f in files}
    on_disk = {str(p.relative_to(ROOT)) for d in ("models", "specs") for p in (ROOT / d).iterdir()
               if p.suffix in (".onnx", ".json", ".toml")}
    assert on_disk == listed
