"""A program's one trace: its sites, which values come from the latents, and their values.

probgen reads a program's structure (its sample and deterministic sites, their shapes,
supports and plates) from one run at the starting point of ``init``, with the libraries'
validation off. A Pyro program runs eagerly, each continuous latent value an autograd
leaf, so that a value computed from one carries a gradient. A NumPyro program is staged,
not run: ``jax.make_jaxpr`` traces it inside ``jax.jvp``, where only values computed from
the latents carry tangents, and nothing is compiled, so that a ``scan`` body is compiled
once, by the sampler, as in NumPyro alone. The concrete values that the checks ask for
(``Trace.values``) come from one small jitted program that computes only those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from probgen import lazy
from probgen.errors import DataError, ModelError, ProbgenError
from probgen.initialization import init_strategy
from probgen.programs import (
    Site,
    argument_shapes,
    as_numpy,
    check_arguments,
    precision_scope,
    rng_guard,
)

if TYPE_CHECKING:
    from probgen.programs import Program

jax = lazy.load("jax", globals())
jax_core = lazy.load("jax.extend.core", globals())
jnp = lazy.load("jax.numpy", globals())
numpyro = lazy.load("numpyro", globals())
numpyro_handlers = lazy.load("probgen.numpyro_handlers", globals())
pyro = lazy.load("pyro", globals())
pyro_handlers = lazy.load("probgen.pyro_handlers", globals())
pyro_init = lazy.load("pyro.infer.autoguide.initialization", globals())
pyro_util = lazy.load("pyro.poutine.util", globals())
torch = lazy.load("torch", globals())


@dataclass(frozen=True)
class Trace:
    """What one trace of a program found: its ``sites``, how many batch dims its plates
    use, whether a plate subsamples, and its sites' values and supports, which a NumPyro
    trace holds as a staged program (``_compute``) where they are not concrete."""

    sites: dict[str, Site]
    plate_nesting: int
    subsampled: bool
    _known: dict[tuple[str, str], Any]
    _compute: Callable[[list[tuple[str, str]]], dict[tuple[str, str], Any]] | None = None

    def values(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The values of the sites ``names`` at the trace's point, as numpy arrays."""
        return {k: as_numpy(v) for (_, k), v in self._concrete("value", names).items()}

    def supports(self, names: Iterable[str]) -> dict[str, Any]:
        """The supports of the sample sites ``names``, with their bounds at the trace's
        point (a bound may depend on another site's value)."""
        return {k: v for (_, k), v in self._concrete("support", names).items()}

    def _concrete(self, field: str, names: Iterable[str]) -> dict[tuple[str, str], Any]:
        keys = [(field, name) for name in names]
        if missing := [key for key in keys if key not in self._known]:
            self._known.update(self._compute(missing))
        return {key: self._known[key] for key in keys}


def trace(program: Program) -> Trace:
    """Trace ``program`` at the starting point of its ``init`` (see the module's note)."""
    # latent values come from the init strategy, which also handles improper priors
    init = init_strategy(program.backend, program.init)
    run = _trace_pyro if program.backend == "pyro" else _trace_numpyro
    with rng_guard():
        nodes, found, known, compute = run(program, init)
    sites, nesting, subsampled = {}, 0, False
    for name, node in nodes.items():
        infer = node.get("infer") or {}
        subsampled = subsampled or _subsamples(node)
        for frame in node.get("cond_indep_stack", ()):
            if frame.dim is not None:
                nesting = max(nesting, -frame.dim)
        # Pyro records pyro.deterministic as an observed sample site marked in ``infer``
        if node["type"] == "deterministic" or infer.get("_deterministic"):
            sites[name] = Site(
                name, "deterministic", found[name].shape, from_latents=found[name].from_latents
            )
        # plates' subsample sites and factor statements are bookkeeping, not sites
        elif node["type"] == "sample" and not (
            _is_pyro_subsample(node) or infer.get("is_auxiliary")
        ):
            sites[name] = Site(
                name,
                "observed" if node["is_observed"] else "latent",
                found[name].shape,
                discrete=found[name].discrete,
                enumerated=infer.get("enumerate") == "parallel",
                from_latents=found[name].from_latents,
                improper=found[name].improper,
            )
    return Trace(sites, nesting, subsampled, known, compute)


@dataclass(frozen=True)
class _Found:
    """What the trace reads from a site's value and distribution while they are live."""

    shape: tuple[int, ...]
    from_latents: bool
    discrete: bool
    improper: bool


def _found(nodes: Mapping[str, dict], from_latents: Callable[[Any], bool]) -> dict[str, _Found]:
    """Each valued site's shape, whether its value depends on the latents
    (``from_latents(value)``), whether it is discrete, and whether it is a latent site
    whose prior cannot be sampled."""
    return {
        k: _Found(
            tuple(np.shape(v["value"])),
            from_latents(v["value"]),
            _is_sampled(v) and bool(v["fn"].support.is_discrete),
            _is_sampled(v) and not v["is_observed"] and _improper(v["fn"]),
        )
        for k, v in nodes.items()
        if v["type"] in _VALUED
    }


_VALUED = ("sample", "deterministic")


def _trace_pyro(program: Program, init: Callable):
    """The program's trace nodes, what each valued site holds (``_Found``), and its sites'
    values and supports, all concrete (no staged program to compute them from)."""
    watch = pyro_handlers.Watch()
    with (
        pyro.validation_enabled(False),
        watch,
        pyro.poutine.trace() as tracer,
        pyro_init.InitMessenger(init),
    ):
        _call(program, watch)
        nodes = tracer.get_trace().nodes
        _check_log_probs(program, nodes)
    found = _found(nodes, lambda v: torch.is_tensor(v) and v.requires_grad)
    known = {("value", k): as_numpy(nodes[k]["value"]) for k in found}
    known |= {("support", k): v["fn"].support for k, v in _sampled(nodes).items()}
    return nodes, found, known, None


def _trace_numpyro(program: Program, init: Callable):
    """As ``_trace_pyro``, for a NumPyro program staged by ``jax.make_jaxpr``: the values
    and supports that are concrete in the trace (data passed on as they are, constant
    bounds) are kept; the others stay outputs of the staged program until asked for."""
    live: dict[str, Any] = {}

    def run(x):
        watch = numpyro_handlers.Watch(x)
        with (
            numpyro.validation_enabled(False),
            watch,
            numpyro.handlers.trace() as nodes,
            numpyro.handlers.substitute(substitute_fn=init),
            numpyro.handlers.seed(rng_seed=0),
        ):
            _call(program, watch)
            _check_log_probs(program, nodes)
        live["nodes"] = nodes
        live["found"] = _found(nodes, lambda v: isinstance(v, jax.interpreters.ad.JVPTracer))
        outputs = {("value", k): nodes[k]["value"] for k in live["found"]}
        # a support is a pytree of its bounds, which may be staged values
        outputs |= {("support", k): v["fn"].support for k, v in _sampled(nodes).items()}
        staged = {k: v for k, v in outputs.items() if _is_staged(v)}
        live["known"] = {k: v for k, v in outputs.items() if k not in staged}
        return staged

    def outputs():
        staged, _ = jax.jvp(run, (jnp.zeros(()),), (jnp.ones(()),))
        leaves, live["tree"] = jax.tree_util.tree_flatten(staged)
        return leaves

    try:
        jaxpr = jax.make_jaxpr(outputs)()
    except Exception as exc:
        if _is_concretization(exc):
            raise _unstageable(program, exc) from exc
        raise
    staged = jax.tree_util.tree_unflatten(live["tree"], range(len(jaxpr.out_avals)))
    evaluate = jax_core.jaxpr_as_fun(jaxpr)

    def compute(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        wanted = sorted({i for k in keys for i in jax.tree_util.tree_leaves(staged[k])})
        # one jitted program returning only these outputs: XLA drops the rest
        with precision_scope(program.precision):
            leaves = jax.jit(lambda: [evaluate()[i] for i in wanted])()
        at = dict(zip(wanted, leaves, strict=True))
        return {k: jax.tree_util.tree_map(at.__getitem__, staged[k]) for k in keys}

    return live["nodes"], live["found"], live["known"], compute


def _is_staged(output: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(output))


def _is_sampled(node: dict) -> bool:
    """A sample statement with a distribution (not a plate's subsample site)."""
    return node["type"] == "sample" and not _is_pyro_subsample(node)


def _is_pyro_subsample(node: dict) -> bool:
    """A Pyro plate's subsample site (none exists before Pyro is imported)."""
    return lazy.loaded("pyro") is not None and pyro_util.site_is_subsample(node)


def _is_concretization(exc: Exception) -> bool:
    """JAX's errors for a Python branch or conversion on a staged value."""
    errors = getattr(lazy.loaded("jax"), "errors", None)
    return errors is not None and isinstance(
        exc,
        errors.ConcretizationTypeError
        | errors.TracerArrayConversionError
        | errors.TracerBoolConversionError
        | errors.TracerIntegerConversionError,
    )


def _sampled(nodes: Mapping[str, dict]) -> dict[str, dict]:
    return {k: v for k, v in nodes.items() if _is_sampled(v)}


def _call(program: Program, watch: Any) -> None:
    """Run the program; an error it raises becomes a probgen error naming where it failed."""
    try:
        program.model(*program.args, **program.kwargs)
    except ProbgenError:
        raise
    except Exception as exc:
        where = (
            f"after its sample site {watch.last!r}"
            if watch.last
            else "before its first sample site"
        )
        if _is_concretization(exc):
            raise _unstageable(program, exc, where) from exc
        raise _failure(program, where, exc) from exc


def _check_log_probs(program: Program, nodes: dict[str, dict]) -> None:
    """Evaluate each sample site's log density at its value, naming the site that fails:
    where an observed value's shape does not fit its distribution's."""
    for name, node in _sampled(nodes).items():
        try:
            node["fn"].log_prob(node["value"])
        except NotImplementedError:
            continue  # a distribution without a density: the sampler will say so
        except Exception as exc:
            if _is_concretization(exc):
                raise _unstageable(program, exc, f"at its sample site {name!r}") from exc
            raise _failure(program, f"at its sample site {name!r}", exc) from exc


def _failure(program: Program, where: str, exc: Exception) -> ProbgenError:
    """The error for a program that fails on its arguments: ``DataError`` for the shape and
    value errors of the array libraries, ``ModelError`` for any other."""
    check_arguments(program)  # a NaN argument is the likelier cause: name it
    shapes = ", ".join(f"{k}: {s}" for k, s in argument_shapes(program).items()) or "none"
    cls = (
        DataError
        if isinstance(exc, ValueError | RuntimeError | TypeError | IndexError)
        else ModelError
    )
    return cls(
        f"{program.name} fails {where} on these arguments ({type(exc).__name__}: "
        f"{_first_line(exc)}); the arguments' shapes are {shapes}: check that they agree "
        "with each other and with the program's plates."
    )


def _unstageable(program: Program, exc: Exception, where: str = "") -> ModelError:
    """The error for a NumPyro program that needs a concrete value where JAX stages it, as
    every NumPyro sampler and optimizer does (under ``jax.jit``)."""
    return ModelError(
        f"{program.name} fails {where + ' ' if where else ''}when JAX traces it, as NumPyro's "
        f"samplers and optimizers do ({type(exc).__name__}: {_first_line(exc)}): it branches "
        "on, or converts to a Python number, a value computed inside the program. Use "
        "jnp.where or jax.lax.cond, and compute Python numbers from the arguments before "
        "the call."
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""


def _improper(fn: Any) -> bool:
    """Whether the distribution cannot be sampled (an improper prior)."""
    try:
        if lazy.loaded("torch") and isinstance(fn, torch.distributions.Distribution):
            fn.sample()
        else:
            fn.sample(jax.random.PRNGKey(0))
    except NotImplementedError:
        return True
    return False


def _subsamples(node: dict) -> bool:
    if node["type"] == "plate":  # NumPyro's plate statement
        size, subsample_size = node["args"]
    elif _is_pyro_subsample(node):  # Pyro's plate statement
        size, subsample_size = node["fn"].size, node["fn"].subsample_size
    else:
        return False
    return subsample_size is not None and subsample_size < size
