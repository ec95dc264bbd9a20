"""Draws from a guide that subsamples a plate that the model does not (amortised guides).

Such a guide (Pyro's amortised LDA pattern: ``plate(name, N, subsample_size=B)`` in the
guide only) is fitted on minibatches, yet it defines q over the full data,
q(θ) Π_{j=1..N} q(z_j | θ, x_j): training estimates that full ELBO without bias. A
posterior draw therefore replays the guide, with the arguments it was fitted with, over
the full data in minibatches of its own size B: the plate's subsample indices are set
to 0..B−1, B..2B−1, ... (the last minibatch is the final B indices), the global sites
are drawn once, in the first minibatch, and held there for the others, and the local
sites of each minibatch fill their rows. The model then sees full-size local sites, so
its predictive and likelihood take the full data, as after MCMC.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from probgen import lazy
from probgen.errors import ModelError
from probgen.programs import Program, as_numpy

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
numpyro = lazy.load("numpyro", globals())
pyro = lazy.load("pyro", globals())
torch = lazy.load("torch", globals())


def guide_plates(program: Program, guide: Any, state: Any) -> dict[str, tuple[int, int]]:
    """The plates that ``guide`` subsamples: ``{name: (size N, subsample size B)}``."""
    if program.subsampled or not callable(guide):
        return {}  # a model that subsamples itself is replayed as fitted
    plates = {}
    scope = pyro.get_param_store().scope(state) if program.backend == "pyro" else nullcontext()
    with scope:
        nodes = _trace(program, guide, state, {}, {}, None)
    for node in nodes.values():
        if program.backend == "pyro" and pyro.poutine.util.site_is_subsample(node):
            size, batch = node["fn"].size, node["fn"].subsample_size
        elif program.backend == "numpyro" and node["type"] == "plate":
            size, batch = node["args"]
        else:
            continue
        if batch is not None and batch < size:
            plates[node["name"]] = (size, batch)
    if len(plates) > 1:
        raise ModelError(
            f"the guide subsamples the plates {list(plates)}, and probgen replays a guide "
            "over the full data for one subsampled plate only: draw from it by hand"
        )
    return plates


def replay(plates: dict[str, tuple[int, int]]) -> str:
    """How a guide's posterior draws were made, for ``Posterior.attrs["replay"]``."""
    if not plates:
        return "the guide run with the arguments it was fitted with"
    [(plate, (size, batch))] = plates.items()
    return (
        f"the guide run with the arguments it was fitted with over the full data, plate "
        f"{plate!r} of {size} in minibatches of {batch}"
    )


def full_data_draws(
    program: Program, guide: Any, state: Any, sites: list[str], draws: int, seed: int
) -> dict[str, np.ndarray]:
    """``draws`` draws of ``sites`` from the guide, over the full data in minibatches."""
    [(plate, (size, batch))] = guide_plates(program, guide, state).items()
    starts = [*range(0, size - batch, batch), size - batch]
    chunks = [np.arange(s, s + batch) for s in starts]
    if program.backend == "pyro":
        rows = []
        with pyro.get_param_store().scope(state), torch.no_grad():
            pyro.set_rng_seed(seed)
            for _ in range(draws):
                rows.append(_one_draw(program, guide, state, plate, size, chunks, sites, None))
        return {k: np.stack([row[k] for row in rows]) for k in sites}
    keys = jax.random.split(jax.random.PRNGKey(seed), draws)
    one = jax.vmap(lambda key: _one_draw(program, guide, state, plate, size, chunks, sites, key))
    return {k: np.asarray(v) for k, v in one(keys).items()}


def _one_draw(program, guide, state, plate, size, chunks, sites, key):
    lib = np if program.backend == "pyro" else jnp
    fixed, full = {}, {}
    for c, index in enumerate(chunks):
        key_c = None if key is None else jax.random.fold_in(key, c)
        nodes = _trace(program, guide, state, {plate: index}, fixed, key_c)
        for name in sites:
            node = nodes[name]
            frames = [f for f in node["cond_indep_stack"] if f.name == plate]
            value = node["value"] if lib is jnp else as_numpy(node["value"])
            if not frames:
                fixed.setdefault(name, node["value"])
                full.setdefault(name, value)
                continue
            axis = value.ndim - node["fn"].event_dim + frames[0].dim
            if name not in full:
                shape = list(value.shape)
                shape[axis] = size
                full[name] = lib.zeros(shape, value.dtype)
            full[name] = _put(full[name], index, value, axis, lib)
    return full


def _put(full, index, value, axis, lib):
    moved = lib.moveaxis(full, axis, 0)
    if lib is jnp:
        moved = moved.at[index].set(jnp.moveaxis(value, axis, 0))
    else:
        moved[index] = np.moveaxis(value, axis, 0)
    return lib.moveaxis(moved, 0, axis)


def _trace(program: Program, guide: Any, state: Any, plates: dict, held: dict, key):
    """One trace of the guide with the ``plates``' indices and the ``held`` sites fixed
    (Pyro: in the param store's current scope)."""
    if program.backend == "pyro":
        data = {**{k: torch.as_tensor(v) for k, v in plates.items()}, **held}
        conditioned = pyro.poutine.condition(guide, data)
        return pyro.poutine.trace(conditioned).get_trace(*program.args, **program.kwargs).nodes
    # NumPyro's ``substitute`` sets the plate messages' indices (and the parameters)
    plates = {k: jnp.asarray(v) for k, v in plates.items()}
    model = numpyro.handlers.substitute(guide, data={**state, **plates})
    model = numpyro.handlers.condition(model, data=held)
    model = numpyro.handlers.seed(model, jax.random.PRNGKey(0) if key is None else key)
    return numpyro.handlers.trace(model).get_trace(*program.args, **program.kwargs)
