"""The station's parts built from its settings, all validated before the camera opens."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..calibration_io import load_calibration
from ..errors import QCError
from ..pipeline import Inspector
from ..rectify import Rectifier
from ..spec import Spec, load_spec
from .settings import FolderSource, StationSettings

logger = logging.getLogger(__name__)


@dataclass
class Components:
    spec: Spec
    spec_sha256: str
    calibration_id: str
    inspector: Inspector
    source: Any  # FrameSource (qcstation.station.sources)
    auto: Any | None  # AutoTrigger, None for manual triggers and folder sources
    publisher: Any | None  # MqttPublisher


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_inspector(settings: StationSettings, use_model: bool = True) -> tuple[Spec, Inspector]:
    """Spec, calibration, model and the prebuilt bench view; QCError names what is wrong."""
    ins = settings.inspection
    spec = load_spec(ins.spec)
    cal = load_calibration(ins.calibration)
    model = None
    if use_model:
        from ..model import DEFAULT_MODEL, DefectModel  # onnxruntime only when a model is used

        model = DefectModel.load(ins.model or DEFAULT_MODEL, threads=ins.threads or 2)
    bench = Rectifier.build(cal)
    return spec, Inspector(spec, cal, bench=bench, model=model, threads=ins.threads)


def build_components(settings: StationSettings, use_model: bool = True) -> Components:
    from .sources import make_source
    from .trigger import AutoTrigger

    spec, inspector = build_inspector(settings, use_model)
    ins = settings.inspection
    cal_sha = file_sha256(ins.calibration)
    auto = None
    if settings.trigger.mode == "auto" and not isinstance(settings.source, FolderSource):
        auto = AutoTrigger(settle_s=settings.trigger.settle_s)
    publisher = None
    if settings.mqtt is not None:
        from ..outputs.mqtt import MqttPublisher

        publisher = MqttPublisher(settings.mqtt.url, settings.station.id, settings.mqtt.queue)
    try:
        source = make_source(settings.source, settings.station.data_dir)
    except (ValueError, OSError) as e:
        raise QCError(f"[source]: {e}") from None
    return Components(spec, file_sha256(ins.spec), f"{ins.calibration.stem}-{cal_sha[:12]}",
                      inspector, source, auto, publisher)
