"""System metrics of a job: CPU and memory of the kernel's process tree, and the GPUs.

A sampler thread emits `metric` events with `kind: "system"` every
`NBQUEUE_SYSTEM_METRICS_SECONDS` (default 5; 0 turns it off): `system/cpu_percent` (100 = one
core busy), `system/memory_bytes` (resident memory), and per GPU `system/gpu<i>/utilization_percent`
and `system/gpu<i>/memory_bytes`, read through NVML (`pynvml`, from nvidia-ml-py), else from
`nvidia-smi`. Without a GPU there are no GPU series, and no error. Each GPU sample also goes to
`on_gpus` (the idle GPU guard, runner/idle_gpu.py).

`NBQUEUE_TEST_GPU_SAMPLES` (tests only) names a JSON file read at each sample instead of NVML: a
list of utilisation percents, one per GPU, so a test can make GPUs idle or busy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from typing import Callable

log = logging.getLogger("nbqueue.runner")

DEFAULT_SECONDS = 5.0
NVIDIA_SMI_QUERY = [
    "--query-gpu=index,utilization.gpu,memory.used",
    "--format=csv,noheader,nounits",
]
MIB = 1024 * 1024


def sample_seconds(environ=os.environ) -> float:
    try:
        return float(environ.get("NBQUEUE_SYSTEM_METRICS_SECONDS") or DEFAULT_SECONDS)
    except ValueError:
        return DEFAULT_SECONDS


# -- GPUs -------------------------------------------------------------------------------------


class NvmlGpus:
    """Whole-GPU utilization and used memory through NVML. `nvml` is the pynvml module (or a
    stand-in with the same functions, in tests)."""

    def __init__(self, nvml):
        self.nvml = nvml
        nvml.nvmlInit()
        self.handles = [
            nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())
        ]

    def sample(self) -> list[tuple[int, float, int]]:
        out = []
        for index, handle in enumerate(self.handles):
            utilization = self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu
            memory = self.nvml.nvmlDeviceGetMemoryInfo(handle).used
            out.append((index, float(utilization), int(memory)))
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.nvml.nvmlShutdown()


def parse_nvidia_smi(text: str) -> list[tuple[int, float, int]]:
    """`index, utilization %, memory MiB` lines -> (index, percent, bytes); lines it cannot
    read (`[N/A]`, `[Not Supported]`) are skipped."""
    out = []
    for line in text.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 3:
            continue
        try:
            out.append((int(fields[0]), float(fields[1]), int(float(fields[2]) * MIB)))
        except ValueError:
            continue
    return out


class NvidiaSmiGpus:
    def __init__(self, executable: str):
        self.executable = executable
        self.sample()  # fails here, once, when nvidia-smi cannot talk to a driver

    def sample(self) -> list[tuple[int, float, int]]:
        done = subprocess.run(
            [self.executable, *NVIDIA_SMI_QUERY],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return parse_nvidia_smi(done.stdout)

    def close(self) -> None:
        pass


class InjectedGpus:
    """GPU samples from a JSON file (NBQUEUE_TEST_GPU_SAMPLES), re-read at each sample: a list of
    utilisation percents. A file that cannot be read gives no sample that time."""

    def __init__(self, path: str):
        self.path = path

    def sample(self) -> list[tuple[int, float, int]]:
        try:
            with open(self.path) as f:
                values = json.load(f)
            return [(i, float(v), 0) for i, v in enumerate(values)]
        except (OSError, ValueError, TypeError):
            return []

    def close(self) -> None:
        pass


def find_gpus(import_nvml: Callable[[], object] | None = None, which=shutil.which):
    """NVML when it loads and sees GPUs, else nvidia-smi when it runs, else None (no GPU)."""
    injected = os.environ.get("NBQUEUE_TEST_GPU_SAMPLES")
    if injected:
        return InjectedGpus(injected)
    try:
        nvml = import_nvml() if import_nvml else __import__("pynvml")
        gpus = NvmlGpus(nvml)
        if gpus.handles:
            return gpus
        gpus.close()
        return None
    except Exception as error:  # no module, no libnvidia-ml, no driver
        log.debug("NVML unavailable: %s", error)
    executable = which("nvidia-smi")
    if executable:
        try:
            gpus = NvidiaSmiGpus(executable)
            return gpus if gpus.sample() else None
        except Exception as error:
            log.debug("nvidia-smi unavailable: %s", error)
    return None


# -- CPU and memory of a process tree ---------------------------------------------------------


class ProcessTree:
    """CPU % since the previous sample and resident bytes of a process and its descendants,
    through psutil (an ipykernel dependency) or, without it, /proc."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with ipykernel
            psutil = None
        self._psutil = psutil
        self._procs: dict[int, object] = {}
        self._last: tuple[float, float] | None = None  # (wall, cpu seconds) for /proc

    def sample(self) -> tuple[float, int] | None:
        """(cpu percent, memory bytes), or None once the process is gone."""
        return self._sample_psutil() if self._psutil else self._sample_proc()

    def _sample_psutil(self):
        psutil = self._psutil
        try:
            root = self._procs.get(self.pid) or psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return None
        procs, cpu, memory = {}, 0.0, 0
        for proc in tree:
            proc = self._procs.get(proc.pid, proc)  # keep the object: cpu_percent is relative
            try:
                cpu += proc.cpu_percent(None)
                memory += proc.memory_info().rss
            except psutil.Error:
                continue
            procs[proc.pid] = proc
        self._procs = procs
        # Every process went away while being read, or is exiting and already gave back its
        # memory (the kernel stopping: resident size 0): no sample, not a 0.
        return (cpu, memory) if procs and memory > 0 else None

    def _sample_proc(self):
        pids = proc_tree(self.pid)
        if not pids:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        page = os.sysconf("SC_PAGE_SIZE")
        cpu_seconds, memory = 0.0, 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu_seconds += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
                with open(f"/proc/{pid}/statm") as f:
                    memory += int(f.read().split()[1]) * page
            except (OSError, IndexError, ValueError):
                continue
        if not memory:
            return None  # gone while being read
        now = time.monotonic()
        last, self._last = self._last, (now, cpu_seconds)
        if last is None or now <= last[0]:
            return 0.0, memory
        return max(0.0, 100.0 * (cpu_seconds - last[1]) / (now - last[0])), memory


def proc_tree(root: int) -> list[int]:
    """`root` and its descendants, from /proc/<pid>/stat's parent pids."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    if not os.path.exists(f"/proc/{root}"):
        return []
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, ()))
    return out


# -- the sampler ------------------------------------------------------------------------------


class SystemSampler:
    """Emits system metric events every `seconds` while started. `kernel_pid()` gives the
    kernel's pid once it runs (None before). `emit(name, value, step, time_ms)` sends one."""

    def __init__(
        self,
        kernel_pid: Callable[[], int | None],
        emit: Callable[[str, float, int, int], None],
        seconds: float = DEFAULT_SECONDS,
        find_gpus=find_gpus,
        on_gpus: Callable[[list[float]], None] | None = None,
    ):
        self.kernel_pid = kernel_pid
        self.emit = emit
        self.seconds = seconds
        self._find_gpus = find_gpus
        self.on_gpus = on_gpus
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nbqueue-system", daemon=True)
        self._tree: ProcessTree | None = None
        self._gpus = None
        self._step = 0

    def start(self) -> None:
        if self.seconds > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(5)

    def _run(self) -> None:
        try:
            self._gpus = self._find_gpus()
        except Exception as error:
            log.warning("GPU metrics are off: %s", error)
        try:
            while not self._stop.wait(self.seconds):
                self.sample_once()
        finally:
            if self._gpus is not None:
                self._gpus.close()

    def sample_once(self) -> None:
        now = int(time.time() * 1000)
        points: list[tuple[str, float]] = []
        pid = self.kernel_pid()
        if pid is not None:
            fresh = self._tree is None or self._tree.pid != pid
            if fresh:
                self._tree = ProcessTree(pid)
            tree = self._tree.sample()
            if tree is not None:
                # A first CPU reading has nothing to compare with: memory only.
                if not fresh:
                    points.append(("system/cpu_percent", tree[0]))
                points.append(("system/memory_bytes", tree[1]))
        if self._gpus is not None:
            try:
                gpus = self._gpus.sample()
                for index, utilization, memory in gpus:
                    points.append((f"system/gpu{index}/utilization_percent", utilization))
                    points.append((f"system/gpu{index}/memory_bytes", memory))
                if self.on_gpus is not None:
                    self.on_gpus([utilization for _, utilization, _ in gpus])
            except Exception as error:
                log.warning("GPU metrics stopped: %s", error)
                self._gpus.close()
                self._gpus = None
        if not points:
            return
        for name, value in points:
            self.emit(name, value, self._step, now)
        self._step += 1
