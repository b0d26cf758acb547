"""The job's code runs without the runner's credential."""

from __future__ import annotations

from conftest import JOB_TOKEN, FakeSidecar, make_notebook, run_runner


def test_the_kernel_does_not_see_the_job_token(tmp_path):
    nb = make_notebook(
        "import os\nprint(repr(os.environ.get('NBQUEUE_JOB_TOKEN')))\n"
        "print(os.environ.get('NBQUEUE_JOB_ID'))"
    )
    with FakeSidecar(nb) as sidecar:
        code, log = run_runner(sidecar.url, tmp_path)
        assert code == 0, log
        finish = sidecar.finishes[0]
        assert finish["state"] == "succeeded", log
        text = finish["notebook"]["cells"][0]["outputs"][0]["text"]
        assert text.splitlines() == ["None", sidecar.payload["job"]["id"]]
        assert JOB_TOKEN not in str(sidecar.ordered_events())
