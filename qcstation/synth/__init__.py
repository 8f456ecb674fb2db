"""Synthetic coir-net photos with exact ground truth, and calibration boards, through one camera."""

from .camera import Camera, Pose, draw_camera
from .dataset import write_dataset
from .render import Plan, Sample, draw_plan, render_sample

__all__ = [
    "Camera",
    "Plan",
    "Pose",
    "Sample",
    "draw_camera",
    "draw_plan",
    "render_sample",
    "write_dataset",
]
