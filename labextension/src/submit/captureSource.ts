/**
 * The Python the kernel runs to describe its environment. It runs through
 * `exec` in a fresh namespace inside one `user_expressions` entry, so nothing
 * lands in the user's namespace, history or outputs. runner-image's
 * tests/test_environment_capture.py runs this very text on a real kernel.
 *
 * No backticks and no `${` in it: it is a template literal.
 */
export const CAPTURE_SOURCE = String.raw`
import importlib.metadata as md, json, os, platform, re, subprocess, sys
from urllib.parse import urlsplit, urlunsplit

def no_credentials(url):
    # user:token@host in a remote or package URL never leaves the kernel
    if not url or "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))

def direct(dist):
    # PEP 610: how a distribution was installed when not from an index
    try:
        info = json.loads(dist.read_text("direct_url.json") or "null")
    except Exception:
        info = None
    if not isinstance(info, dict):
        return {}
    out = {}
    if info.get("url"):
        out["url"] = no_credentials(info["url"])
    if (info.get("dir_info") or {}).get("editable"):
        out["editable"] = True
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict):
        out["vcs"] = vcs.get("vcs")
        out["commit"] = vcs.get("commit_id")
    return out

packages, seen = [], set()
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name or not dist.version:
        continue  # broken metadata: nothing an installer could use
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        continue
    seen.add(key)
    entry = {"name": name, "version": dist.version}
    entry.update(direct(dist))
    packages.append(entry)

cwd = os.getcwd()

def git(*args):
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=3)
    except Exception:
        return None
    return done.stdout.strip() if done.returncode == 0 else None

repo = None
root = git("rev-parse", "--show-toplevel")
if root:
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    status = git("status", "--porcelain")
    remotes = (git("remote") or "").split()
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
    repo = {
        "root": root,
        "remote": no_credentials(git("remote", "get-url", remote)) if remote else None,
        "commit": git("rev-parse", "HEAD"),
        "branch": None if branch in (None, "HEAD") else branch,
        "dirty": None if status is None else bool(status),
    }

conda = None
if os.path.isdir(os.path.join(sys.prefix, "conda-meta")):
    if os.environ.get("CONDA_PREFIX") == sys.prefix and os.environ.get("CONDA_DEFAULT_ENV"):
        conda = os.environ["CONDA_DEFAULT_ENV"]
    elif os.path.isdir(os.path.join(sys.prefix, "condabin")):
        conda = "base"
    else:
        conda = os.path.basename(sys.prefix)

result = {
    "python": {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": sys.platform,
        "machine": platform.machine(),
    },
    "packages": packages,
    "conda_env": conda,
    "cwd": cwd,
    "git": repo,
}
`;

/**
 * The `user_expressions` entry: a JSON string of `result`. (A JSON string is a
 * valid Python string literal.)
 */
export const CAPTURE_EXPRESSION = `__import__("json").dumps((lambda ns: (exec(${JSON.stringify(
  CAPTURE_SOURCE
)}, ns), ns["result"])[1])({}))`;
