"""The line each benchmark prints about the machine and libraries its timings come from."""

from __future__ import annotations

import os
import platform
from types import ModuleType

import torch


def describe_machine(*libraries: ModuleType) -> str:
    """'python 3.11.7, torch 2.13.0, …; 2 CPUs, 1 torch threads, load average 0.8, 1.0, 1.1':
    the versions of ``libraries``, the CPUs, torch's threads and the load, which other
    processes raise (inflating and scattering timings)."""
    versions = "".join(f", {lib.__name__} {lib.__version__}" for lib in libraries)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"python {platform.python_version()}{versions}; {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads, load average {load}"
    )
