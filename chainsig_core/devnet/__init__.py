"""The local devnet as processes: ``up``, ``status``, ``down``, ``fund`` (see up.py)."""

from .processes import DevnetError
from .up import UpOptions, down, status, up

__all__ = ["DevnetError", "UpOptions", "down", "status", "up"]
