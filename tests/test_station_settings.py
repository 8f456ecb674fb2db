"""station.toml: a good file loads with paths under its folder; each bad one names file and key."""

from __future__ import annotations

import pytest

from qcstation.errors import QCError
from qcstation.station.settings import (
    FolderSource,
    SettingsError,
    StationSettings,
    load_settings,
    parse_settings,
)

GOOD = """\
[station]
id = "bench-1"
data_dir = "data"

[source]
type = "folder"
path = "incoming"

[trigger]
mode = "auto"

[inspection]
spec = "specs/kr-coirnet-25.toml"
calibration = "calibration/bench.json"

[storage]
url = "sqlite:///data/qcstation.db"

[web]
host = "127.0.0.1"
port = 8000
"""


def test_good_file_loads_with_paths_under_its_folder(tmp_path):
    f = tmp_path / "station.toml"
    f.write_text(GOOD + "[lot]\nname = 'PTC-KR'\nquantity = 5400\nsampling = 'iso2859-1'\n"
                 "level = 'II'\naql = 2.5\n[mqtt]\nurl = 'mqtt://127.0.0.1:1883'\n")
    s = load_settings(f)
    assert isinstance(s, StationSettings)
    assert s.station.id == "bench-1"
    assert s.station.data_dir == tmp_path / "data"
    assert isinstance(s.source, FolderSource) and s.source.path == tmp_path / "incoming"
    assert s.inspection.spec == tmp_path / "specs/kr-coirnet-25.toml"
    assert s.inspection.calibration == tmp_path / "calibration/bench.json"
    assert s.storage.url == f"sqlite:///{tmp_path / 'data/qcstation.db'}"
    assert s.lot.quantity == 5400 and s.lot.sampling == "iso2859-1" and s.lot.aql == 2.5
    assert s.mqtt is not None and s.mqtt.url == "mqtt://127.0.0.1:1883"
    assert s.trigger.settle_s > 0 and s.web.port == 8000


def test_defaults_sqlite_in_data_dir_and_absolute_paths_kept(tmp_path):
    text = GOOD.replace('url = "sqlite:///data/qcstation.db"\n', "").replace(
        'path = "incoming"', 'path = "/srv/incoming"')
    s = parse_settings(text, "s.toml", tmp_path)
    assert s.storage_url == f"sqlite:///{tmp_path / 'data' / 'qcstation.db'}"
    assert str(s.source.path) == "/srv/incoming"
    assert s.mqtt is None and s.lot.sampling == "all"


@pytest.mark.parametrize("source, kind", [
    ('type = "usb"\ndevice = "/dev/video2"\nwidth = 1920\nheight = 1080', "usb"),
    ('type = "usb"\ndevice = 1', "usb"),
    ('type = "stream"\nurl = "rtsp://cam/1"', "stream"),
    ('type = "video"\nfile = "bench.mp4"\nloop = true', "video"),
    ('type = "simulated"\nseed = 5\nnets = 3', "simulated"),
])
def test_each_source_type(source, kind, tmp_path):
    text = GOOD.replace('type = "folder"\npath = "incoming"', source)
    s = parse_settings(text, "s.toml", tmp_path)
    assert s.source.type == kind


def _swap(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# (case, file content, key the message must name, a word of what was expected)
BAD = [
    ("unknown key", GOOD.replace("[web]\n", "[web]\ncolour = 1\n"), "web.colour", "unknown"),
    ("unknown section", GOOD + "[lighting]\nlux = 5\n", "lighting", "unknown"),
    ("missing section", GOOD.split("[inspection]")[0], "inspection", "missing"),
    ("missing id", _swap('id = "bench-1"\n', ""), "station.id", "missing"),
    ("bad id", _swap('"bench-1"', '"bench 1/x"'), "station.id", "pattern"),
    ("unknown source type", _swap('type = "folder"', 'type = "ftp"'), "source.type", "folder"),
    ("source key of another type", _swap('path = "incoming"', 'path = "x"\nurl = "y"'),
     "source.url", "unknown"),
    ("folder without path", _swap('path = "incoming"\n', ""), "source.path", "missing"),
    ("port out of range", _swap("port = 8000", "port = 70000"), "web.port", "65535"),
    ("port of wrong type", _swap("port = 8000", 'port = "eight"'), "web.port", "integer"),
    ("bad trigger mode", _swap('mode = "auto"', 'mode = "pedal"'), "trigger.mode", "manual"),
    ("negative settle", _swap('mode = "auto"', 'mode = "auto"\nsettle_s = -1'),
     "trigger.settle_s", "greater"),
    ("zero threads", _swap('calibration = "calibration/bench.json"',
                           'calibration = "c.json"\nthreads = 0'), "inspection.threads", "greater"),
    ("bad storage url", _swap("sqlite:///data/qcstation.db", "mysql://x/y"), "storage.url",
     "postgresql"),
    ("bad level", GOOD + "[lot]\nsampling = 'iso2859-1'\nlevel = 'IV'\n", "lot.level", "S-4"),
    ("bad sampling", GOOD + "[lot]\nsampling = 'some'\n", "lot.sampling", "iso2859-1"),
    ("zero quantity", GOOD + "[lot]\nquantity = 0\n", "lot.quantity", "greater"),
    ("bad mqtt url", GOOD + "[mqtt]\nurl = 'http://broker'\n", "mqtt.url", "mqtt://"),
    ("not toml", "[station\nid=1", "TOML", "syntax"),
]


@pytest.mark.parametrize("case, text, key, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_settings_refused_with_file_key_and_expectation(case, text, key, expected, tmp_path):
    f = tmp_path / "station.toml"
    f.write_text(text)
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    msg = str(e.value)
    assert isinstance(e.value, QCError)
    assert msg.startswith(str(f))
    assert key in msg, msg
    assert expected in msg, msg
    assert "\n" not in msg


def test_missing_file_one_sentence(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")
