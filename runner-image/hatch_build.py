"""Hatch build hook: ship the prebuilt JupyterLab extension and the server-extension config.

labextension/lab-dist is built by another step (`make` runs `jlpm build` first); while it does
not exist the wheel is still built, without the labextension, so the runner can be installed
and tested on its own.
"""

from __future__ import annotations

import os

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LABEXTENSION_DEST = "share/jupyter/labextensions/nbqueue-labextension"


class CustomBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        shared = build_data.setdefault("shared_data", {})
        shared["jupyter-config/jupyter_server_config.d/nbqueue.json"] = (
            "etc/jupyter/jupyter_server_config.d/nbqueue.json"
        )
        lab_dist = os.path.join(self.root, "labextension", "lab-dist")
        if os.path.isfile(os.path.join(lab_dist, "package.json")):
            shared["labextension/lab-dist"] = LABEXTENSION_DEST
            shared["install.json"] = f"{LABEXTENSION_DEST}/install.json"
        else:
            self.app.display_warning(
                "labextension/lab-dist is missing: building nbqueue without the JupyterLab "
                "extension (run `make` to build it first)."
            )
