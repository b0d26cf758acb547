"""The whole notebook corpus (runner-image/tests/corpus) through papermill and through nbqueue,
in the same run: wall time of each side and their ratio (target: nbqueue / papermill <= 1.10).

Both sides run the notebooks the way a person runs a batch of them from a shell, two at a time
(BENCH_CORPUS_WORKERS): papermill's CLI (`papermill NB OUT -k python3 --cwd DIR -y PARAMS`)
against nbqueue's (`nbqueue submit NB --profile cpu -p ... --follow`, then `nbqueue result`) on
a sidecar with the local backend and as many cpu slots. Each side has its own copy of the
corpus; the sidecar is started before nbqueue's clock starts.

Run: .venv/bin/python runner-image/bench/corpus.py   (after `make build`; a few minutes)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus_harness import KERNEL, Sidecar, copy_corpus, manifest, run_nbqueue  # noqa: E402


def papermill_cli(folder: Path, results: Path, entry: dict) -> str:
    args = [sys.executable, "-m", "papermill", entry["name"], str(results / entry["name"])]
    args += ["-k", KERNEL, "--cwd", str(folder), "--no-progress-bar"]
    if entry.get("parameters"):
        # not ASCII-escaped: papermill's YAML reader turns \ud83c\udf89 into lone surrogates
        args += ["-y", json.dumps(entry["parameters"], ensure_ascii=False)]
    if entry.get("deadline"):
        args += ["--execution-timeout", str(entry["deadline"])]
    done = subprocess.run(args, cwd=folder, capture_output=True, timeout=600)
    return "succeeded" if done.returncode == 0 else "failed"


def main() -> int:
    entries = manifest()
    workers = int(os.environ.get("BENCH_CORPUS_WORKERS", "2"))
    with tempfile.TemporaryDirectory(prefix="nbqueue-bench-corpus-") as tmp:
        work = Path(tmp)
        for name in ("papermill-results", "nbqueue-results"):
            (work / name).mkdir()

        folder = copy_corpus(work / "papermill")
        start = time.monotonic()
        with ThreadPoolExecutor(workers) as pool:
            pm_states = list(
                pool.map(lambda e: papermill_cli(folder, work / "papermill-results", e), entries)
            )
        papermill = time.monotonic() - start

        folder = copy_corpus(work / "nbqueue")
        with Sidecar(work / "home", capacity=workers) as sidecar:
            start = time.monotonic()
            runs = run_nbqueue(sidecar, folder, entries, work / "nbqueue-results", workers)
            nbqueue = time.monotonic() - start
        nq_states = [runs[e["name"]].state for e in entries]

    def count(states: list[str]) -> str:
        return ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))

    print(f"corpus: {len(entries)} notebooks, {workers} at a time on each side")
    print(f"papermill CLI: {papermill:7.1f} s  ({count(pm_states)})")
    print(f"nbqueue CLI:   {nbqueue:7.1f} s  ({count(nq_states)})")
    print(f"nbqueue / papermill: {nbqueue / papermill:.2f}  (target <= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
