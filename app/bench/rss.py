"""Resident memory as /proc tells it: this process's peak while a block runs, and its children's."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

MB = 1024 * 1024


def status_kb(pid: int | str, field: str) -> int:
    """A ``/proc/<pid>/status`` field in bytes (VmRSS, VmHWM…); 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def rss() -> int:
    found = status_kb("self", "VmRSS")
    if not found:
        raise RuntimeError("no VmRSS in /proc/self/status")
    return found


def children_peak() -> int:
    """The highest peak RSS (VmHWM) among this process's living children: the OCR workers."""
    me, peak = str(os.getpid()), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me:  # the field after the state is the ppid
            peak = max(peak, status_kb(entry.name, "VmHWM"))
    return peak


class PeakRss:
    """This process's highest RSS while the block runs, sampled every millisecond."""

    def __init__(self) -> None:
        self.baseline = self.peak = self.after = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.baseline = self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = rss()
        self.peak = max(self.peak, self.after)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB

    @property
    def kept_mb(self) -> float:
        return (self.after - self.baseline) / MB
