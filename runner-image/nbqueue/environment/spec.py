"""The captured environment as the runner reads it: normalised packages and a stable hash.

The labextension captures the kernel's environment (see docs/protocol.md, `environment` in the
job spec). Two captures of the same set of distributions give the same normalised form whatever
the order or spelling of names, so they share one cached virtualenv.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

# Never restored: the runner's own package (the image's copy must run) and the installer.
EXCLUDED = frozenset({"nbqueue", "pip"})


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """The version without its local label (`2.3.0+cu121` -> `2.3.0`)."""
    return version.split("+", 1)[0]


def local_label(version: str) -> str | None:
    return version.split("+", 1)[1] if "+" in version else None


class InvalidEnvironment(ValueError):
    """The captured environment is not in the documented shape."""


@dataclass(frozen=True)
class Package:
    """One captured distribution and where it came from (PEP 610 direct_url.json)."""

    name: str
    version: str
    editable: bool = False
    #: direct URL the distribution was installed from (file:, https:, or a VCS URL)
    url: str | None = None
    #: `git`, `hg`, ... when installed from a version control system
    vcs: str | None = None
    #: the VCS commit installed
    commit: str | None = None

    @property
    def key(self) -> str:
        return canonical_name(self.name)

    @property
    def local_path(self) -> str | None:
        """The path of a `file:` install (editable or not): only the submitter's machine has it."""
        if self.url and self.url.startswith("file:") and not self.vcs:
            return urlsplit(self.url).path or self.url
        return None

    def requirement(self) -> str:
        """What an installer is given for this package."""
        if self.vcs and self.url:
            ref = f"@{self.commit}" if self.commit else ""
            return f"{self.name} @ {self.vcs}+{self.url}{ref}"
        if self.url and not self.local_path:
            return f"{self.name} @ {self.url}"
        return f"{self.name}=={self.version}"

    def source(self) -> str:
        """Where it comes from, for hashing and messages."""
        if self.local_path:
            return f"local:{self.local_path}"
        if self.vcs:
            return f"{self.vcs}:{self.url}@{self.commit or ''}"
        return f"url:{self.url}" if self.url else "index"


@dataclass(frozen=True)
class CapturedEnvironment:
    python_version: str  # "3.11.7"
    packages: tuple[Package, ...]
    platform: str = ""
    conda_env: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def python_minor(self) -> str:
        return ".".join(self.python_version.split(".")[:2])


def _text(value, what: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise InvalidEnvironment(f"{what} must be a non-empty string")
    return value


def _strip_credentials(url: str | None) -> str | None:
    """A URL without `user:token@` (captured URLs may carry credentials; never store them)."""
    if not url or "@" not in url.split("//", 1)[-1].split("/", 1)[0]:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def parse_environment(data: dict) -> CapturedEnvironment:
    """Reads the `environment` object of a job spec; unknown keys are kept in `raw`."""
    if not isinstance(data, dict):
        raise InvalidEnvironment("the environment must be an object")
    python = data.get("python")
    if not isinstance(python, dict):
        raise InvalidEnvironment('"python" must be an object with "version"')
    version = _text(python.get("version"), "python.version")
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise InvalidEnvironment('"packages" must be a list')
    seen: dict[str, Package] = {}
    for i, entry in enumerate(packages):
        if not isinstance(entry, dict):
            raise InvalidEnvironment(f"packages[{i}] must be an object")
        package = Package(
            name=_text(entry.get("name"), f"packages[{i}].name").strip(),
            version=_text(entry.get("version"), f"packages[{i}].version").strip(),
            editable=bool(entry.get("editable", False)),
            url=_strip_credentials(_text(entry.get("url"), f"packages[{i}].url", required=False)),
            vcs=_text(entry.get("vcs"), f"packages[{i}].vcs", required=False),
            commit=_text(entry.get("commit"), f"packages[{i}].commit", required=False),
        )
        # The first distribution of a name on sys.path is the one imported; the kernel lists
        # them in that order.
        seen.setdefault(package.key, package)
    return CapturedEnvironment(
        python_version=version,
        packages=tuple(sorted(seen.values(), key=lambda p: p.key)),
        platform=str(python.get("platform") or ""),
        conda_env=data.get("conda_env") if isinstance(data.get("conda_env"), str) else None,
        raw=data,
    )


def normalised(env: CapturedEnvironment, exclude: frozenset[str] = frozenset()) -> dict:
    """The part of a capture that decides what gets installed, in a canonical form."""
    return {
        "python": env.python_minor,
        "packages": [
            [p.key, p.version, p.source(), p.editable]
            for p in env.packages
            if p.key not in EXCLUDED and p.key not in exclude
        ],
    }


def environment_hash(
    env: CapturedEnvironment, base: dict | None = None, exclude: frozenset[str] = frozenset()
) -> str:
    """sha256 of the normalised capture plus what it is restored on top of (`base`: the image's
    interpreter and packages, the restore policy), so a new image never reuses a stale venv."""
    document = {"captured": normalised(env, exclude), "base": base or {}}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
