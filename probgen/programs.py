"""What a program is: a Pyro or NumPyro model function bound to its data.

probgen adds no modelling language. It finds out which library a model function uses by
running it up to its first sample statement, converts the user's data to that library's
array type, and reads the program's sites from one trace (``probgen.tracing``). Before
inference, ``check_data`` refuses unusable data: NaN or inf in an argument or in an
observed value computed from the arguments alone, and arguments whose shapes the program
cannot combine. probgen's own runs of a program leave the global random state as they
found it (``rng_guard``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from probgen import lazy
from probgen.errors import ArgumentError, DataError, ModelError

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
torch = lazy.load("torch", globals())
jax_cache = lazy.load("probgen.jax_cache", globals())
pyro_handlers = lazy.load("probgen.pyro_handlers", globals())
numpyro_handlers = lazy.load("probgen.numpyro_handlers", globals())

Backend = Literal["pyro", "numpyro"]
BACKENDS: tuple[Backend, ...] = ("pyro", "numpyro")


class FirstSample(Exception):
    """Raised by the probes of ``detect_backend`` at a program's first sample statement."""

    def __init__(self, backend: Backend):
        self.backend = backend


@contextlib.contextmanager
def rng_guard() -> Iterator[None]:
    """Run a block, then put back the global random states that it may have drawn from
    (Python's, NumPy's, and torch's and CUDA's where torch is loaded: a program cannot draw
    from a library that is not), so that probgen's own runs of a program leave the user's
    random stream untouched."""
    python, numpy = random.getstate(), np.random.get_state()  # noqa: NPY002 (the global stream)
    loaded = lazy.loaded("torch")
    cpu = loaded.get_rng_state() if loaded else None
    cuda = loaded.cuda.get_rng_state_all() if loaded and loaded.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(python)
        np.random.set_state(numpy)  # noqa: NPY002
        if cpu is not None:
            loaded.set_rng_state(cpu)
        if cuda is not None:
            loaded.cuda.set_rng_state_all(cuda)


def detect_backend(model: Callable, args: tuple, kwargs: Mapping[str, Any]) -> Backend:
    """Run ``model`` until its first ``sample`` statement and report whose it was.

    The handler stack of each library that is loaded holds a probe that stops the run at
    the first sample site, so the detection costs one partial call and never samples
    anything. A library that is not loaded has no sample statement to stop; a program that
    imports its library as it runs (as the zoo's programs do, ``probgen.lazy``) runs again,
    probed.
    """
    for _ in BACKENDS:
        probed = _loaded_backends()
        try:
            _run_probed(model, args, kwargs, probed)
        except FirstSample as found:
            return found.backend
        except Exception as exc:
            if _loaded_backends() != probed:
                continue  # it failed for want of the probe of the library it imported
            raise ModelError(
                f"could not tell whether {_name(model)} is a Pyro or a NumPyro program: it "
                f"raised {type(exc).__name__}: {exc} before its first sample statement. "
                "Pass backend='pyro' or backend='numpyro'."
            ) from exc
        if _loaded_backends() == probed:
            break
    raise ModelError(
        f"{_name(model)} has no pyro.sample or numpyro.sample statement: it is not a program."
    )


def _loaded_backends() -> list[Backend]:
    return [name for name in BACKENDS if lazy.loaded(name)]


def _run_probed(
    model: Callable, args: tuple, kwargs: Mapping[str, Any], probed: list[Backend]
) -> None:
    """Run ``model`` under a probe of each library in ``probed``, which raises
    ``FirstSample`` at the first sample statement; a run that returns met none."""
    handlers = {"pyro": pyro_handlers, "numpyro": numpyro_handlers}
    with rng_guard(), contextlib.ExitStack() as stack:
        for name in probed:
            stack.enter_context(handlers[name].Probe())
        model(*args, **kwargs)


Precision = Literal["float32", "float64"]
PRECISIONS: tuple[Precision, ...] = ("float32", "float64")


@contextlib.contextmanager
def precision_scope(precision: Precision) -> Iterator[None]:
    """Run a block in ``precision``, then restore the caller's settings (also on error).

    "float64" sets torch's default dtype to float64 and turns on JAX's 64-bit types with
    JAX's own context, ``jax.enable_x64``, in each of the two that is loaded (a program's
    own library is imported before the call). "float32" changes nothing: it runs at the
    libraries' current settings, float32 unless the caller changed them.
    """
    if precision not in PRECISIONS:
        raise ArgumentError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "float32":
        yield
        return
    loaded_torch, loaded_jax = lazy.loaded("torch"), lazy.loaded("jax")
    dtype = loaded_torch.get_default_dtype() if loaded_torch else None
    if loaded_torch:
        loaded_torch.set_default_dtype(loaded_torch.float64)
    try:
        with loaded_jax.enable_x64(True) if loaded_jax else contextlib.nullcontext():
            yield
    finally:
        if loaded_torch:
            loaded_torch.set_default_dtype(dtype)


def to_backend(
    value: Any, backend: Backend, device: str = "cpu", precision: Precision = "float32"
) -> Any:
    """Convert one data argument to ``backend``'s array type.

    Floating data become ``torch.get_default_dtype()`` tensors for Pyro (so they mix
    with the model's parameters) and JAX arrays for NumPyro, where Python floats pass
    through. Python ints and bools, strings and None pass through: they are sizes and
    flags, not data. With ``precision="float64"`` (inside ``precision_scope("float64")``,
    without which JAX cannot hold float64) every floating array and tensor becomes float64.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        return {k: to_backend(v, backend, device, precision) for k, v in value.items()}
    wide = precision == "float64"
    if backend == "pyro":
        if isinstance(value, torch.Tensor):
            dtype = torch.float64 if wide and value.is_floating_point() else value.dtype
            return value.to(device=device, dtype=dtype)
        array = np.asarray(value)
        if array.dtype == object:
            return value
        if np.issubdtype(array.dtype, np.floating):
            return torch.as_tensor(array, dtype=torch.get_default_dtype(), device=device)
        return torch.as_tensor(array, device=device)
    if isinstance(value, float) or (isinstance(value, jax.Array) and not wide):
        return value
    array = as_numpy(value)
    if array.dtype == object:
        return value
    if wide and np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    # a JAX array, unlike numpy's, can be indexed by traced minibatch indices
    return jnp.asarray(array)


@dataclass(frozen=True)
class Site:
    """One sample or deterministic site of a program, read from its trace.

    ``shape``: the shape of one value of the site. ``from_latents``: a value that the
    program computes from latent values; an observed one (a residual ``obs=y − f(θ)``) is
    not data. ``improper``: a latent site whose prior cannot be sampled
    (``ImproperUniform``). The values and supports are ``Program.values`` and
    ``Program.supports``.
    """

    name: str
    kind: Literal["latent", "observed", "deterministic"]
    shape: tuple[int, ...]
    discrete: bool = False
    enumerated: bool = False
    from_latents: bool = False
    improper: bool = False

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
    init: str | dict[str, Any] | None = None
    precision: Precision = "float32"
    _trace: Any = field(default=None, repr=False)  # its probgen.tracing.Trace, once run

    @property
    def name(self) -> str:
        return _name(self.model)

    def rebind(self, model: Callable, **changes: Any) -> Program:
        """The same data bound to another model function (a reparametrised or blocked
        version of this one), traced afresh."""
        return dataclasses.replace(self, model=model, _trace=None, **changes)

    def sites(self) -> dict[str, Site]:
        """The program's sample and deterministic sites, from one trace at the starting
        point of ``init`` (probgen's default: uniform in (−2, 2) of the unconstrained
        space); see ``probgen.tracing``.

        The trace runs with the libraries' validation off, so a starting point where the
        program's parameters are invalid does not stop it, and leaves the global random
        state as it was. A program that fails on its arguments raises ``DataError`` (or
        ``ModelError``) naming the site where it failed and the arguments' shapes.
        """
        return self._traced().sites

    def values(self, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """The values of the sites ``names`` (all by default) where the trace ran."""
        return self._traced().values(self.sites() if names is None else names)

    def supports(self, names: list[str]) -> dict[str, Any]:
        """The supports of the sample sites ``names``, their bounds where the trace ran (a
        bound may depend on another site's value)."""
        return self._traced().supports(names)

    @property
    def max_plate_nesting(self) -> int:
        """How many batch dimensions the program's plates use (−dim of the outermost)."""
        return self._traced().plate_nesting

    @property
    def subsampled(self) -> bool:
        """Whether a plate of the program draws a minibatch (``subsample_size`` < size)."""
        return self._traced().subsampled

    def _traced(self) -> Any:
        if self._trace is None:
            # imported here: tracing runs Programs, so it imports this module
            from probgen.tracing import trace

            self._trace = trace(self)
        return self._trace

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Where every later run of the program (predictions, likelihoods, a guide's draws)
        takes place: in the precision it was bound in (``precision_scope``), and with the
        caller's global random state put back afterwards (``rng_guard``), as those runs are
        seeded by their own ``seed``."""
        with precision_scope(self.precision), rng_guard():
            yield

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
    def proper(self) -> bool:
        """Whether every latent site's prior can be sampled (no improper prior)."""
        return not any(s.improper for s in self.sites().values())

    @property
    def enumerated(self) -> bool:
        """Whether the program sums a discrete latent site out by enumeration."""
        return any(s.enumerated for s in self.sites().values())

    def observed_data(self) -> dict[str, np.ndarray]:
        return self.values(self.site_names("observed"))

    def check_data(self) -> None:
        """Raise ``DataError`` naming the first observed site, then the first argument, with
        NaN or inf values, or the site where the program cannot combine its arguments.

        Only data count: the arguments, and observed values computed from them alone. An
        observed value computed from latent values (``obs=y − f(θ)``) depends on where the
        sampler starts, and is left to the sampler.
        """
        data = [s.name for s in self.sites().values() if s.observed and not s.from_latents]
        for name, value in self.values(data).items():
            if bad := non_finite(value):
                raise DataError(
                    f"observed site {name!r} has {bad} NaN or inf value(s); drop or "
                    "impute them (or mask them with a mask= argument) before fitting."
                )
        check_arguments(self)


def prepare(
    model: Callable,
    args: tuple,
    kwargs: Mapping[str, Any],
    backend: Backend | None = None,
    device: str = "cpu",
    init: str | dict[str, Any] | None = None,
    precision: Precision = "float32",
) -> Program:
    """Bind ``model`` to its data: pick the backend, convert the data, check the device.

    ``init`` (see ``initialization.init_strategy``) is where the program's trace puts its
    latent sites. ``precision`` is ``to_backend``'s: call under ``precision_scope``. A
    NumPyro program turns JAX's persistent compilation cache on (``probgen.jax_cache``)."""
    if not callable(model):
        raise ArgumentError(f"model must be a callable program, got {type(model).__name__}")
    if backend is None:
        backend = detect_backend(model, args, kwargs)
    elif backend not in BACKENDS:
        raise ArgumentError(f"backend must be 'pyro' or 'numpyro', got {backend!r}")
    device = check_device(device, backend)
    if backend == "numpyro":
        jax_cache.enable()
    args = tuple(to_backend(a, backend, device, precision) for a in args)
    kwargs = {k: to_backend(v, backend, device, precision) for k, v in kwargs.items()}
    return Program(model, args, kwargs, backend, device, init, precision)


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
    if is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _arguments(program: Program) -> dict[str, Any]:
    """The program's arguments by parameter name (``argument i`` where it has none);
    entries of a dict argument are named ``name['key']``."""
    try:
        bound = inspect.signature(program.model).bind(*program.args, **program.kwargs)
        named = dict(bound.arguments)
        for name, param in inspect.signature(program.model).parameters.items():
            if param.kind is param.VAR_POSITIONAL and name in named:
                named.update({f"{name}[{i}]": v for i, v in enumerate(named.pop(name))})
            elif param.kind is param.VAR_KEYWORD and name in named:
                named.update(named.pop(name))
    except (TypeError, ValueError):  # no signature, or one the call does not fit
        named = {f"argument {i}": v for i, v in enumerate(program.args)} | program.kwargs
    flat = {}
    for name, value in named.items():
        if isinstance(value, Mapping):
            flat.update({f"{name}[{k!r}]": v for k, v in value.items()})
        else:
            flat[name] = value
    return flat


def argument_shapes(program: Program) -> dict[str, tuple[int, ...]]:
    return {
        name: tuple(np.shape(value))
        for name, value in _arguments(program).items()
        if is_tensor(value) or _is_jax_array(value) or isinstance(value, np.ndarray)
    }


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor (none exists before torch is imported)."""
    loaded = lazy.loaded("torch")
    return loaded is not None and isinstance(value, loaded.Tensor)


def _is_jax_array(value: Any) -> bool:
    loaded = lazy.loaded("jax")
    return loaded is not None and isinstance(value, loaded.Array)


def check_arguments(program: Program) -> None:
    """Raise ``DataError`` naming the first argument with NaN or inf values."""
    for name, value in _arguments(program).items():
        if bad := non_finite(value):
            raise DataError(
                f"argument {name!r} has {bad} NaN or inf value(s); drop or impute them "
                "before fitting."
            )


def non_finite(value: Any) -> int:
    """How many NaN or inf entries a floating array or number holds (0 for anything else)."""
    if isinstance(value, bool | int | str) or value is None:
        return 0
    try:
        array = as_numpy(value)
    except (TypeError, ValueError, RuntimeError):
        return 0
    if not np.issubdtype(array.dtype, np.inexact):
        return 0
    return int(np.size(array) - np.isfinite(array).sum())


def _name(model: Callable) -> str:
    return getattr(model, "__qualname__", None) or type(model).__name__
