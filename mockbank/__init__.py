"""mockbank: a local, stateful sandbox for five payment and banking providers."""

from __future__ import annotations

__version__ = "0.1.0"

from mockbank.app import create_app
from mockbank.config import Config

__all__ = ["Config", "__version__", "create_app"]
