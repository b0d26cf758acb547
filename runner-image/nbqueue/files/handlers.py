"""Jupyter server handlers for working files (routes of nbqueue.server_extension).

The browser cannot read the disk; the Jupyter server can. For a notebook path (relative to the
server's root, as the Contents API names it):

- `GET  nbqueue/files/manifest?path=P`: what of P's directory goes with a job, what is left
  out and why, the total against the sidecar's cap (`files.max_input_bytes`).
- `POST nbqueue/files/upload {"path": P}`: builds the bundle and uploads it to the sidecar
  (`POST /api/files/bundles`); answers the sidecar's `{"id", ...}` for the submit.
- `GET  nbqueue/files/bundle?path=P`: the bundle itself, for a labextension that uploads it
  (hub mode, where this server holds no sidecar token).
- `POST nbqueue/files/save {"job_id", "path"}`: fetches the job's output files from the sidecar
  and unpacks them next to the notebook, in `<notebook name>-<job id>-files/`. With a tar.gz
  body (`?job_id=&path=`) it unpacks that instead (hub mode: the labextension fetched it).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import IOLoop

from ..connection import SidecarSettings, find_connection
from .archive import BundleError, extract_bundle, write_bundle
from .manifest import DEFAULT_MAX_BYTES, build_manifest

INFO_TIMEOUT = 5
TRANSFER_TIMEOUT = 300


class FilesProblem(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def notebook_dir(root_dir: str, path: str) -> tuple[str, str]:
    """(absolute directory of the notebook, notebook file name); never outside root_dir."""
    if not path or not isinstance(path, str):
        raise FilesProblem(400, "invalid_request", 'Say which notebook: "path".')
    root = os.path.realpath(root_dir)
    full = os.path.realpath(os.path.join(root, *path.strip("/").split("/")))
    if os.path.commonpath([root, full]) != root:
        raise FilesProblem(404, "not_found", f"There is no notebook {path!r} here.")
    directory = os.path.dirname(full)
    if not os.path.isdir(directory):
        raise FilesProblem(404, "not_found", f"The folder of {path!r} does not exist.")
    return directory, os.path.basename(full)


def _sidecar_call(connection: dict, method: str, route: str, **kw):
    request = urllib.request.Request(
        connection["url"].rstrip("/") + route, method=method, data=kw.get("data")
    )
    request.add_header("Authorization", f"Bearer {connection['token']}")
    for name, value in (kw.get("headers") or {}).items():
        request.add_header(name, value)
    try:
        return urllib.request.urlopen(request, timeout=kw.get("timeout", TRANSFER_TIMEOUT))
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")["error"]
            raise FilesProblem(error.code, body["code"], body["message"]) from None
        except (ValueError, KeyError, TypeError):
            raise FilesProblem(
                502, "sidecar_error", f"The sidecar answered {error.code} to {method} {route}."
            ) from None
    except OSError as error:
        raise FilesProblem(
            503, "sidecar_unreachable", f"Cannot reach the nbqueue sidecar: {error}."
        ) from None


def sidecar_files_settings(connection: dict | None) -> dict:
    """The sidecar's `files` settings from GET /api/info; defaults when it cannot say."""
    settings = {"bundle": True, "max_input_bytes": DEFAULT_MAX_BYTES}
    if not connection or not connection.get("token"):
        return settings
    try:
        with _sidecar_call(connection, "GET", "/api/info", timeout=INFO_TIMEOUT) as answer:
            settings.update(json.loads(answer.read()).get("files") or {})
    except (FilesProblem, ValueError):
        pass
    return settings


def manifest_for(root_dir: str, path: str, connection: dict | None) -> dict:
    directory, name = notebook_dir(root_dir, path)
    settings = sidecar_files_settings(connection)
    manifest = build_manifest(
        directory, int(settings.get("max_input_bytes") or DEFAULT_MAX_BYTES), notebook=name
    )
    doc = manifest.to_json()
    doc["root"] = os.path.relpath(directory, os.path.realpath(root_dir)).replace(os.sep, "/")
    doc["bundle"] = bool(settings.get("bundle", True))
    return doc


def build_bundle_file(root_dir: str, path: str, connection: dict | None) -> tuple[str, dict]:
    """Writes the bundle of the notebook's directory to a temporary file: (file, manifest)."""
    directory, name = notebook_dir(root_dir, path)
    settings = sidecar_files_settings(connection)
    manifest = build_manifest(
        directory, int(settings.get("max_input_bytes") or DEFAULT_MAX_BYTES), notebook=name
    )
    if manifest.over_cap:
        raise FilesProblem(413, "files_too_large", manifest.problem() or "Too large.")
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, removed by the caller)
        prefix="nbqueue-bundle-", suffix=".tar.gz", delete=False
    )
    try:
        with handle:
            write_bundle(manifest.root, [p for p, _ in manifest.files], handle)
    except BundleError as error:
        os.unlink(handle.name)
        raise FilesProblem(400, "invalid_bundle", str(error)) from None
    return handle.name, manifest.to_json()


def upload_bundle(root_dir: str, path: str, connection: dict | None) -> dict:
    if not connection or not connection.get("token"):
        raise FilesProblem(
            409,
            "no_sidecar_token",
            "This Jupyter server holds no sidecar token (hub mode): fetch "
            "nbqueue/files/bundle and upload it to the sidecar from the browser.",
        )
    archive, manifest = build_bundle_file(root_dir, path, connection)
    try:
        with open(archive, "rb") as body:
            headers = {
                "Content-Type": "application/gzip",
                "Content-Length": str(os.path.getsize(archive)),
            }
            with _sidecar_call(
                connection, "POST", "/api/files/bundles", data=body, headers=headers
            ) as answer:
                uploaded = json.loads(answer.read())
    finally:
        os.unlink(archive)
    uploaded["left_out"] = len(manifest["left_out"])
    return uploaded


def save_outputs(
    root_dir: str, path: str, job_id: str, connection: dict | None, archive: str | None = None
) -> dict:
    """Unpacks the job's output files into `<notebook name>-<job id>-files/` next to it."""
    if not job_id or not all(c.isalnum() or c == "-" for c in job_id):
        raise FilesProblem(400, "invalid_request", 'Say which job: "job_id".')
    directory, name = notebook_dir(root_dir, path)
    stem = name[:-6] if name.endswith(".ipynb") else name
    target = os.path.join(directory, f"{stem}-{job_id}-files")
    workdir = tempfile.mkdtemp(prefix="nbqueue-save-")
    try:
        if archive is None:
            if not connection or not connection.get("token"):
                raise FilesProblem(
                    409, "no_sidecar_token", "Send the job's files archive as the request body."
                )
            archive = os.path.join(workdir, "files.tar.gz")
            answer = _sidecar_call(connection, "GET", f"/api/jobs/{job_id}/files/output")
            with answer, open(archive, "wb") as out:
                shutil.copyfileobj(answer, out, 1024 * 1024)
        # Unpacked aside first: a damaged archive leaves nothing half-written next to the notebook.
        staging = os.path.join(workdir, "files")
        os.mkdir(staging)
        try:
            written = extract_bundle(archive, staging)
        except BundleError as error:
            raise FilesProblem(400, "invalid_bundle", str(error)) from None
        os.makedirs(target, exist_ok=True)
        for rel, _ in written:
            dest = os.path.join(target, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.move(os.path.join(staging, *rel.split("/")), dest)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rel_target = os.path.relpath(target, os.path.realpath(root_dir)).replace(os.sep, "/")
    return {"dir": rel_target, "files": [{"path": p, "size": s} for p, s in written]}


class _FilesHandler(APIHandler):
    def initialize(self, sidecar: SidecarSettings) -> None:
        self.sidecar = sidecar

    def connection(self) -> dict | None:
        return find_connection(self.sidecar)

    @property
    def root_dir(self) -> str:
        return self.settings["contents_manager"].root_dir

    async def run(self, fn, *args):
        try:
            return await IOLoop.current().run_in_executor(None, fn, *args)
        except FilesProblem as problem:
            self.set_status(problem.status)
            self.finish(json.dumps({"error": {"code": problem.code, "message": problem.message}}))
            return None

    def body(self) -> dict:
        try:
            value = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, "The body must be JSON.") from None
        return value if isinstance(value, dict) else {}


class ManifestHandler(_FilesHandler):
    @web.authenticated
    async def get(self) -> None:
        doc = await self.run(
            manifest_for, self.root_dir, self.get_query_argument("path", ""), self.connection()
        )
        if doc is not None:
            self.finish(json.dumps(doc))


class UploadHandler(_FilesHandler):
    @web.authenticated
    async def post(self) -> None:
        answer = await self.run(
            upload_bundle, self.root_dir, self.body().get("path", ""), self.connection()
        )
        if answer is not None:
            self.finish(json.dumps(answer))


class BundleHandler(_FilesHandler):
    @web.authenticated
    async def get(self) -> None:
        built = await self.run(
            build_bundle_file, self.root_dir, self.get_query_argument("path", ""), None
        )
        if built is None:
            return
        archive, _ = built
        try:
            self.set_header("Content-Type", "application/gzip")
            with open(archive, "rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    self.write(chunk)
                    await self.flush()
        finally:
            os.unlink(archive)
        self.finish()


class SaveHandler(_FilesHandler):
    @web.authenticated
    async def post(self) -> None:
        content_type = self.request.headers.get("Content-Type", "")
        archive = None
        if content_type.startswith("application/gzip"):
            job_id = self.get_query_argument("job_id", "")
            path = self.get_query_argument("path", "")
            with tempfile.NamedTemporaryFile(suffix=".tar.gz", delete=False) as handle:
                handle.write(self.request.body)
                archive = handle.name
        else:
            body = self.body()
            job_id, path = str(body.get("job_id", "")), str(body.get("path", ""))
        try:
            answer = await self.run(
                save_outputs, self.root_dir, path, job_id, self.connection(), archive
            )
        finally:
            if archive:
                os.unlink(archive)
        if answer is not None:
            self.finish(json.dumps(answer))


def handlers(sidecar: SidecarSettings) -> list[tuple[str, type, dict]]:
    """The routes, relative to the server's base URL (ExtensionApp puts it in front)."""
    return [
        ("nbqueue/files/manifest", ManifestHandler, {"sidecar": sidecar}),
        ("nbqueue/files/upload", UploadHandler, {"sidecar": sidecar}),
        ("nbqueue/files/bundle", BundleHandler, {"sidecar": sidecar}),
        ("nbqueue/files/save", SaveHandler, {"sidecar": sidecar}),
    ]
