"""What a program is: a Pyro or NumPyro model function bound to its data.

probgen adds no modelling language. It finds out which library a model function uses by
running it up to its first sample statement, converts the user's data to that library's
array type, and reads the program's sites from one trace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.handlers
import pyro
import pyro.poutine
import torch
from numpyro.primitives import Messenger as NumPyroMessenger
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.poutine.messenger import Messenger as PyroMessenger
from pyro.poutine.util import site_is_subsample

from probgen.errors import ArgumentError, DataError, ModelError
from probgen.initialization import init_strategy

Backend = Literal["pyro", "numpyro"]
BACKENDS: tuple[Backend, ...] = ("pyro", "numpyro")


class _FirstSample(Exception):
    def __init__(self, backend: Backend):
        self.backend = backend


class _PyroProbe(PyroMessenger):
    def _pyro_sample(self, msg):
        raise _FirstSample("pyro")


class _NumPyroProbe(NumPyroMessenger):
    def process_message(self, msg):
        if msg["type"] == "sample":
            raise _FirstSample("numpyro")


def detect_backend(model: Callable, args: tuple, kwargs: Mapping[str, Any]) -> Backend:
    """Run ``model`` until its first ``sample`` statement and report whose it was.

    Both libraries' handler stacks hold a probe that stops the run at the first sample
    site, so the detection costs one partial call and never samples anything.
    """
    try:
        with _PyroProbe(), _NumPyroProbe():
            model(*args, **kwargs)
    except _FirstSample as found:
        return found.backend
    except Exception as exc:
        raise ModelError(
            f"could not tell whether {_name(model)} is a Pyro or a NumPyro program: it "
            f"raised {type(exc).__name__}: {exc} before its first sample statement. "
            "Pass backend='pyro' or backend='numpyro'."
        ) from exc
    raise ModelError(
        f"{_name(model)} has no pyro.sample or numpyro.sample statement: it is not a program."
    )


def to_backend(value: Any, backend: Backend, device: str = "cpu") -> Any:
    """Convert one data argument to ``backend``'s array type.

    Floating data become ``torch.get_default_dtype()`` tensors for Pyro (so they mix
    with the model's parameters) and JAX arrays for NumPyro, where Python floats pass
    through. Python ints and bools, strings and None pass through: they are sizes and
    flags, not data.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {k: to_backend(v, backend, device) for k, v in value.items()}
    if backend == "pyro":
        if isinstance(value, torch.Tensor):
            return value.to(device)
        array = np.asarray(value)
        if array.dtype == object:
            return value
        if np.issubdtype(array.dtype, np.floating):
            return torch.as_tensor(array, dtype=torch.get_default_dtype(), device=device)
        return torch.as_tensor(array, device=device)
    if isinstance(value, float | jax.Array):
        return value
    array = as_numpy(value)
    # a JAX array, unlike numpy's, can be indexed by traced minibatch indices
    return value if array.dtype == object else jnp.asarray(array)


@dataclass(frozen=True)
class Site:
    """One sample or deterministic site of a program, read from a trace."""

    name: str
    kind: Literal["latent", "observed", "deterministic"]
    value: np.ndarray
    discrete: bool = False
    enumerated: bool = False

    @property
    def observed(self) -> bool:
        return self.kind == "observed"


@dataclass
class Program:
    """A model function bound to its arguments, its backend and its device."""

    model: Callable
    args: tuple
    kwargs: dict[str, Any]
    backend: Backend
    device: str = "cpu"
    _sites: dict[str, Site] | None = field(default=None, repr=False)
    _plate_nesting: int = field(default=0, repr=False)
    _subsampled: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return _name(self.model)

    def sites(self) -> dict[str, Site]:
        """The program's sample sites from one trace (prior draws for the latents)."""
        if self._sites is None:
            self._sites, self._plate_nesting, self._subsampled = _trace_sites(self)
        return self._sites

    @property
    def max_plate_nesting(self) -> int:
        """How many batch dimensions the program's plates use (−dim of the outermost)."""
        self.sites()
        return self._plate_nesting

    @property
    def subsampled(self) -> bool:
        """Whether a plate of the program draws a minibatch (``subsample_size`` < size)."""
        self.sites()
        return self._subsampled

    def torch_device(self) -> contextlib.AbstractContextManager:
        """Torch's default-device context for a GPU program; none on the CPU, where it
        would only put a dispatch hook on every torch call."""
        return contextlib.nullcontext() if self.device == "cpu" else torch.device(self.device)

    def site_names(self, kind: str) -> list[str]:
        """Names of the sites of ``kind``: "latent", "observed" or "deterministic"."""
        return [s.name for s in self.sites().values() if s.kind == kind]

    def discrete_latents(self) -> list[str]:
        """Discrete latent sites that are not summed out by enumeration."""
        return [
            s.name
            for s in self.sites().values()
            if s.kind == "latent" and s.discrete and not s.enumerated
        ]

    @property
    def enumerated(self) -> bool:
        """Whether the program sums a discrete latent site out by enumeration."""
        return any(s.enumerated for s in self.sites().values())

    def observed_data(self) -> dict[str, np.ndarray]:
        return {s.name: s.value for s in self.sites().values() if s.observed}

    def check_data(self) -> None:
        """Raise ``DataError`` naming the first observed site with NaN or inf values."""
        for site in self.sites().values():
            if site.observed and not np.all(np.isfinite(site.value)):
                bad = int(np.size(site.value) - np.isfinite(site.value).sum())
                raise DataError(
                    f"observed site {site.name!r} has {bad} NaN or inf value(s); drop or "
                    "impute them (or mask them with a mask= argument) before fitting."
                )


def prepare(
    model: Callable,
    args: tuple,
    kwargs: Mapping[str, Any],
    backend: Backend | None = None,
    device: str = "cpu",
) -> Program:
    """Bind ``model`` to its data: pick the backend, convert the data, check the device."""
    if not callable(model):
        raise ArgumentError(f"model must be a callable program, got {type(model).__name__}")
    if backend is None:
        backend = detect_backend(model, args, kwargs)
    elif backend not in BACKENDS:
        raise ArgumentError(f"backend must be 'pyro' or 'numpyro', got {backend!r}")
    device = check_device(device, backend)
    args = tuple(to_backend(a, backend, device) for a in args)
    kwargs = {k: to_backend(v, backend, device) for k, v in kwargs.items()}
    return Program(model, args, kwargs, backend, device)


def check_device(device: str | torch.device, backend: Backend) -> str:
    """Validate ``device`` ("cpu", "cuda", "cuda:1", "gpu") for ``backend``."""
    device = str(device)
    kind = device.split(":")[0]
    if kind not in ("cpu", "cuda", "gpu"):
        raise ArgumentError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if kind == "cpu":
        return "cpu"
    if backend == "pyro":
        if not torch.cuda.is_available():
            raise ArgumentError(f"device={device!r} but torch sees no CUDA device")
        return device.replace("gpu", "cuda")
    if not any(d.platform == "gpu" for d in jax.devices()):
        raise ArgumentError(f"device={device!r} but JAX sees no GPU")
    return device


def as_numpy(value: Any) -> np.ndarray:
    """Any array (torch, JAX, numpy, scalar) as a numpy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _trace_sites(program: Program) -> tuple[dict[str, Site], int, bool]:
    # latent values come from the init strategy, which also handles improper priors
    init = init_strategy(program.backend)
    if program.backend == "pyro":
        with pyro.poutine.trace() as tracer, InitMessenger(init):
            program.model(*program.args, **program.kwargs)
        nodes = tracer.get_trace().nodes
    else:
        with (
            numpyro.handlers.trace() as nodes,
            numpyro.handlers.substitute(substitute_fn=init),
            numpyro.handlers.seed(rng_seed=0),
        ):
            program.model(*program.args, **program.kwargs)
    sites, nesting, subsampled = {}, 0, False
    for name, node in nodes.items():
        infer = node.get("infer") or {}
        subsampled = subsampled or _subsamples(node)
        for frame in node.get("cond_indep_stack", ()):
            if frame.dim is not None:
                nesting = max(nesting, -frame.dim)
        value = as_numpy(node["value"])
        # Pyro records pyro.deterministic as an observed sample site marked in ``infer``
        if node["type"] == "deterministic" or infer.get("_deterministic"):
            sites[name] = Site(name, "deterministic", value)
        # plates' subsample sites and factor statements are bookkeeping, not sites
        elif node["type"] == "sample" and not (
            site_is_subsample(node) or infer.get("is_auxiliary")
        ):
            sites[name] = Site(
                name,
                "observed" if node["is_observed"] else "latent",
                value,
                discrete=bool(node["fn"].support.is_discrete),
                enumerated=infer.get("enumerate") == "parallel",
            )
    return sites, nesting, subsampled


def _subsamples(node: dict) -> bool:
    if node["type"] == "plate":  # NumPyro's plate statement
        size, subsample_size = node["args"]
    elif site_is_subsample(node):  # Pyro's plate statement
        size, subsample_size = node["fn"].size, node["fn"].subsample_size
    else:
        return False
    return subsample_size is not None and subsample_size < size


def _name(model: Callable) -> str:
    return getattr(model, "__qualname__", None) or type(model).__name__
