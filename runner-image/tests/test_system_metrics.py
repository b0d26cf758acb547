"""The system metrics sampler's parts: nvidia-smi parsing, NVML (fake module), process trees."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

from nbqueue.runner.system_metrics import (
    MIB,
    NvmlGpus,
    ProcessTree,
    SystemSampler,
    find_gpus,
    parse_nvidia_smi,
    proc_tree,
    sample_seconds,
)

# `nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits`
# on a 2-GPU machine, one of them not reporting utilization
RECORDED_NVIDIA_SMI = "0, 87, 30517\n1, [N/A], 1024\n"


def test_parse_nvidia_smi():
    assert parse_nvidia_smi(RECORDED_NVIDIA_SMI) == [(0, 87.0, 30517 * MIB)]
    assert parse_nvidia_smi("") == []


class FakeNvml:
    """The part of pynvml the sampler uses, for two GPUs."""

    def __init__(self, count=2):
        self.count = count
        self.shut = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetCount(self):
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i):
        return f"handle{i}"

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=40 + int(handle[-1]), memory=3)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(used=(int(handle[-1]) + 1) * 2**30, total=80 * 2**30)


def test_nvml_path():
    gpus = NvmlGpus(FakeNvml())
    assert gpus.sample() == [(0, 40.0, 2**30), (1, 41.0, 2 * 2**30)]


def test_find_gpus_prefers_nvml_then_nvidia_smi_then_none():
    assert isinstance(find_gpus(lambda: FakeNvml()), NvmlGpus)

    def no_nvml():
        raise ImportError("No module named 'pynvml'")

    assert find_gpus(no_nvml, which=lambda name: None) is None
    zero = FakeNvml(count=0)
    assert find_gpus(lambda: zero, which=lambda name: None) is None and zero.shut
    # an nvidia-smi that cannot reach a driver exits non-zero: no GPU, no error
    assert find_gpus(no_nvml, which=lambda name: "/bin/false") is None


def test_sampler_emits_system_series_with_fake_gpus():
    emitted = []
    sampler = SystemSampler(
        kernel_pid=os.getpid,
        emit=lambda *point: emitted.append(point),
        find_gpus=lambda: NvmlGpus(FakeNvml()),
    )
    sampler._gpus = sampler._find_gpus()
    sampler.sample_once()
    sampler.sample_once()
    names = [name for name, *_ in emitted]
    assert names.count("system/memory_bytes") == 2
    assert names.count("system/cpu_percent") == 1  # from the second sample on
    assert names.count("system/gpu1/utilization_percent") == 2
    assert emitted[-1][:3] == ("system/gpu1/memory_bytes", 2 * 2**30, 1)
    assert {step for _, _, step, _ in emitted} == {0, 1}


def test_sampler_without_gpu_for_real():
    """This machine's real GPU discovery: no GPU means no GPU series and no error."""
    emitted = []
    sampler = SystemSampler(os.getpid, lambda *p: emitted.append(p), seconds=0.05)
    sampler.start()
    time.sleep(0.3)
    sampler.stop()
    names = {name for name, *_ in emitted}
    assert {"system/cpu_percent", "system/memory_bytes"} <= names
    if sampler._find_gpus() is None:
        assert not [n for n in names if "gpu" in n]


def test_process_tree_counts_children_psutil_and_proc():
    child = subprocess.Popen(
        [sys.executable, "-c", "x = bytearray(50_000_000); import time; time.sleep(30)"]
    )
    try:
        time.sleep(0.5)
        assert child.pid in proc_tree(os.getpid())
        with_psutil = ProcessTree(os.getpid())
        from_proc = ProcessTree(os.getpid())
        from_proc._psutil = None
        for tree in (with_psutil, from_proc):
            tree.sample()
            sum(range(2_000_000))
            cpu, memory = tree.sample()
            assert cpu >= 0 and memory > 50_000_000
    finally:
        child.kill()
        child.wait()
    assert ProcessTree(child.pid).sample() is None
    assert proc_tree(child.pid) == []


def test_process_tree_gone_while_read_gives_no_sample(monkeypatch):
    # The kernel stopping between listing its processes and reading them: no sample at all,
    # never a memory reading of 0.
    import psutil

    def gone(self):
        raise psutil.NoSuchProcess(self.pid)

    monkeypatch.setattr(psutil.Process, "memory_info", gone)
    assert ProcessTree(os.getpid()).sample() is None


def test_sample_seconds_from_environment():
    assert sample_seconds({}) == 5.0
    assert sample_seconds({"NBQUEUE_SYSTEM_METRICS_SECONDS": "0.5"}) == 0.5
    assert sample_seconds({"NBQUEUE_SYSTEM_METRICS_SECONDS": "soon"}) == 5.0
