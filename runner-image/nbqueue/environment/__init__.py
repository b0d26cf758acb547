"""The kernel's environment in the runner: restore a captured set of distributions as a cached
virtualenv on top of the image's Python (see restore.py)."""

from .install import RestoreCancelled
from .restore import Restored, RestoreFailed, RestoreSettings, restore
from .spec import InvalidEnvironment, parse_environment

__all__ = [
    "InvalidEnvironment",
    "RestoreCancelled",
    "RestoreFailed",
    "RestoreSettings",
    "Restored",
    "parse_environment",
    "restore",
]
