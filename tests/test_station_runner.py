"""The runner's own duties: sampled lots, nets laid in sections, manual trigger, pushes, preview."""

from __future__ import annotations

import queue

import cv2
import numpy as np
import pytest
from stationkit import drop, good_net, make_bench, torn_net, wait_for
from test_station_e2e import _bench_video, records, running

from qcstation.station.sampling import draw_sample, plan

FOLDER = 'type = "folder"\npath = "incoming"\npoll_s = 0.1\nstable_s = 0.1'


def test_sampled_lot_numbers_the_drawn_nets_and_decides(tmp_path):
    lot = "[lot]\nname = 'PTC-S'\nquantity = 40\nsampling = 'iso2859-1'\nlevel = 'II'\n" \
          "aql = 2.5\nseed = 11\n"
    path = make_bench(tmp_path, FOLDER, lot)
    p = plan(40, "II", 2.5)  # D at 2.5 points up to C: n = 5, Ac 0, Re 1
    drawn = [str(n) for n in draw_sample(40, p.sample_size, 11)]
    with running(path) as (station, store):
        assert station.status().net_id == drawn[0]
        for k in range(p.sample_size):
            drop(tmp_path / "incoming", f"{k}.jpg", good_net(k))
            wait_for(lambda k=k: len(records(store, station.current_lot)) == k + 1, 30, "a record")
        got = sorted(store.lot_records(station.current_lot), key=lambda r: r.created_at)
        wait_for(lambda: station.status().lot["sampling"]["sampled"] == 5, 10, "the counts")
        s = station.status().lot["sampling"]
    assert [r.net_id for r in got] == drawn
    assert (s["code"], s["sample_size"], s["sampled"], s["decision"]) == ("C", 5, 5, "accept")


def test_a_net_laid_in_sections_is_one_net(tmp_path):
    with running(make_bench(tmp_path, FOLDER)) as (station, store):
        inbox = station.subscribe()
        station.set_net_id("NET-7")
        assert station.status().net_id == "NET-7"
        drop(tmp_path / "incoming", "s1.jpg", good_net(0))
        first = inbox.get(timeout=30)
        drop(tmp_path / "incoming", "s2.jpg", torn_net())
        second = inbox.get(timeout=30)
        result = station.finish_net()
        drop(tmp_path / "incoming", "next.jpg", good_net(1))
        third = inbox.get(timeout=30)
        got = {r.id: r for r in store.lot_records(station.current_lot)}
    assert got[first].net_id == got[second].net_id == "NET-7"
    assert result["net"] == "NET-7" and result["verdict"] == "fail" and result["sections"] == 2
    assert any(r.startswith("section 2: hole") for r in result["reasons"])
    assert result["mesh"]["openings"] > got[first].mesh["openings"]  # pooled over both
    assert got[third].net_id == "1"  # without a typed ID: the lot's next number


def test_manual_trigger_inspects_the_newest_frame_and_preview_is_downscaled(tmp_path):
    _bench_video(tmp_path / "bench.avi")
    path = make_bench(tmp_path, 'type = "video"\nfile = "bench.avi"\nloop = true')
    path.write_text(path.read_text().replace('mode = "auto"', 'mode = "manual"'))
    with running(path) as (station, store):
        inbox = station.subscribe()
        wait_for(lambda: station.preview_jpeg() is not None, 30, "a live frame")
        jpeg = station.preview_jpeg()
        view = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert view.shape == (720, 960, 3)  # 1200 x 900 frames shown 960 wide
        assert station.status().trigger == "manual"
        assert station.trigger()
        rid = inbox.get(timeout=30)
        assert store.inspection(rid) is not None and station.status().last_inspection_id == rid
        station.unsubscribe(inbox)
        assert station.trigger()
        assert station.idle(30)
        with pytest.raises(queue.Empty):  # an unsubscribed page gets no more pushes
            inbox.get_nowait()


def test_camera_missing_then_back_station_keeps_answering(tmp_path):
    path = make_bench(tmp_path, 'type = "video"\nfile = "later.avi"\nloop = true')
    with running(path) as (station, store):
        wait_for(lambda: station.status().camera == "lost", 30, "the camera reported lost")
        s = station.status()
        assert s.state == "running" and station.preview_jpeg() is None
        assert 'state="lost"' in station.metrics.exposition().decode()
        _bench_video(tmp_path / "later.avi")  # the camera comes back
        wait_for(lambda: station.status().camera == "ok", 60, "the camera back")
        wait_for(lambda: station.preview_jpeg() is not None, 30, "live frames again")
