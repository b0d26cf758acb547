"""Working files: the notebook's directory goes with a job as a bundle, and the files the job
writes come back.

- `ignore`: which files stay behind (`.nbqueueignore` in gitignore syntax, default ignores).
- `manifest`: what goes, what was left out and why, and the size cap.
- `archive`: writing bundles (tar.gz) and unpacking them safely.
- `collect`: the files a run created or modified, under an output cap.
"""

from .archive import BundleError, extract_bundle, write_bundle
from .collect import Collected, collect_outputs, snapshot
from .ignore import DEFAULT_IGNORES, IGNORE_FILE, IgnoreRules
from .manifest import DEFAULT_MAX_BYTES, Manifest, build_manifest

__all__ = [
    "DEFAULT_IGNORES",
    "DEFAULT_MAX_BYTES",
    "IGNORE_FILE",
    "BundleError",
    "Collected",
    "IgnoreRules",
    "Manifest",
    "build_manifest",
    "collect_outputs",
    "extract_bundle",
    "snapshot",
    "write_bundle",
]
