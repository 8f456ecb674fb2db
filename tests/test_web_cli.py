"""`qcstation user add`, `token create` and `export-reviewed` on a real SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from webutil import ROOT, fill_store, load, open_store, write_settings

from qcstation.cli import main
from qcstation.web.auth import token_sha256, verify_password


@pytest.fixture
def config(tmp_path):
    return write_settings(tmp_path)


def run_cli(args, stdin: str = "") -> tuple[int, str, str]:
    """The real command in a child process (stdin is not a terminal there)."""
    p = subprocess.run([sys.executable, "-m", "qcstation", *args], input=stdin, text=True,
                       capture_output=True, cwd=ROOT, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return p.returncode, p.stdout, p.stderr


def test_user_add_stores_an_argon2_hash(config):
    code, out, err = run_cli(["user", "add", "--config", str(config), "--role", "admin", "ada"],
                             "correct horse battery\n")
    assert code == 0, err
    assert "added admin ada" in out
    with open_store(load(config)) as store:
        user = store.user("ada")
        assert user.role == "admin" and user.password_hash.startswith("$argon2")
        assert verify_password(user.password_hash, "correct horse battery")
        assert not verify_password(user.password_hash, "correct horse batterY")


@pytest.mark.parametrize("args,stdin,message", [
    (["--role", "admin", "ada"], "short\n", "shorter than 8"),
    (["--role", "boss", "ada"], "long enough pw\n", "invalid choice"),
    (["--role", "admin", "a b"], "long enough pw\n", "not usable"),
])
def test_user_add_refuses_with_one_sentence(config, args, stdin, message):
    code, out, err = run_cli(["user", "add", "--config", str(config), *args], stdin)
    assert code == 2 and message in err and "Traceback" not in err


def test_user_add_twice_is_refused(config):
    args = ["user", "add", "--config", str(config), "--role", "inspector", "ina"]
    assert run_cli(args, "first password\n")[0] == 0
    code, _, err = run_cli(args, "second password\n")
    assert code == 2 and "exists already" in err


def test_token_create_prints_once_and_stores_the_hash(config, capsys):
    assert main(["token", "create", "--config", str(config), "--role", "supervisor",
                 "--name", "plc"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("qcs_") and len(token) > 40
    with open_store(load(config)) as store:
        found = store.token(token_sha256(token))
        assert found.role == "supervisor" and found.name == "plc"
        assert found.token_sha256 != token
        assert store.token(token_sha256(token + "x")) is None


def test_export_reviewed_writes_the_eval_layout(config, tmp_path):
    settings = load(config)
    with open_store(settings) as store:
        data = fill_store(store)
        ids = data["ids"]
        store.review(ids[2], user="sam", verdict="fail", note="hole confirmed",
                     defect_label="hole")
        store.review(ids[4], user="sam", verdict="pass", note="gauge: in tolerance")
        store.review(ids[0], user="sam", verdict="fail", note="stained", defect_label="stain")
    out = tmp_path / "reviewed"
    assert main(["export-reviewed", "--config", str(config), "--out", str(out)]) == 0
    truths = [json.loads(p.read_text()) for p in sorted(out.glob("[0-9][0-9][0-9][0-9].json"))]
    assert [t["inspection_id"] for t in truths] == [ids[0], ids[2], ids[4]]  # oldest first
    assert [t["verdict"] for t in truths] == ["fail", "fail", "pass"]
    assert truths[1]["defects"] == [{"type": "hole", "bbox_px": [100, 60, 40, 30]}]
    assert truths[0]["defects"] == [{"type": "stain", "bbox_px": [0, 0, 320, 240]}]
    assert truths[2]["defects"] == []
    for t in truths:
        assert (out / t["image"]).read_bytes()[:2] == b"\xff\xd8"
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["spec_path"].endswith("kr-coirnet-25.toml")
    assert (out / "calibration.json").exists()


def test_export_reviewed_without_reviews_says_so(config, tmp_path):
    code, _, err = run_cli(["export-reviewed", "--config", str(config), "--out",
                            str(tmp_path / "x")])
    assert code == 2 and "no reviewed inspections" in err


@pytest.mark.slow
def test_exported_set_is_read_by_eval(config, tmp_path):
    """Real rendered photos, inspected, stored and reviewed, exported and scored by eval."""
    from qcstation.calibration_io import load_calibration
    from qcstation.cli.inspect_cmd import inspect_file
    from qcstation.pipeline import Inspector
    from qcstation.spec import load_spec
    from qcstation.synth.dataset import write_dataset

    settings = load(config)
    nets = tmp_path / "nets"
    write_dataset(nets, 2, 3, settings.inspection.spec, (1600, 1200), (3.2, 4.8), False, 1)
    inspector = Inspector(load_spec(settings.inspection.spec),
                          load_calibration(settings.inspection.calibration))
    with open_store(settings) as store:
        lot = store.open_lot("L", station="bench-t")
        for photo in sorted(nets.glob("[0-9][0-9][0-9][0-9].jpg")):
            result = inspect_file(inspector, photo, None)
            truth = json.loads(photo.with_suffix(".json").read_text())
            rid = store.record_inspection(
                result, station="bench-t", lot_id=lot.id, net_id=photo.stem, source_name=None,
                image_jpeg=photo.read_bytes(), overlay_jpeg=None, spec_sha256="0" * 64,
                calibration_id="demo", captured_at=lot.created_at)
            # the supervisor knows the truth (here: the renderer's)
            store.review(rid, user="sam", verdict="pass" if truth["verdict"] == "pass"
                         else "fail", note="checked")
    out = tmp_path / "reviewed"
    assert main(["export-reviewed", "--config", str(config), "--out", str(out)]) == 0
    code, text, err = run_cli(["eval", str(out), "--no-model"])
    assert code == 0, err
    assert "2 images" in text and "| all | 2 |" in text
