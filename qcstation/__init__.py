"""qcstation: machine-vision quality control for coir nets."""

__version__ = "0.1.0"
