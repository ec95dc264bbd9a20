"""The shared set-up of probgen's kernels on flat unconstrained latents (inference/kernels.py)."""

import dataclasses

import numpy as np
import pyro.distributions as dist
import pytest

import probgen as pg
from probgen.inference.independence import Independence
from probgen.inference.mala import MALA
from probgen.inference.mh import RandomWalk
from probgen.inference.ula import ULA
from probgen.models import registry

# fixed step sizes and no warm-up: adaptation would amplify the two potentials' rounding
SAMPLERS = {
    "mala": MALA(step_size=0.5),
    "ula": ULA(step_size=0.05),
    "mh": RandomWalk(scale=1.0),
    "independence": None,  # built in the test: its proposal is a torch distribution
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_pyro_jit_compiled_potential_gives_the_same_chain(name):
    """Pyro's JIT-traced potential is the same function: one seed gives the same draws."""
    sampler = SAMPLERS[name] or Independence({"theta": dist.Beta(2.0, 2.0)})
    coin = registry.get("coin").program("pyro")
    draws = {}
    for jit in (False, True):
        post = pg.mcmc(
            coin, 10, k=7.0, sampler=dataclasses.replace(sampler, jit_compile=jit),
            chains=1, warmup=0, draws=300, seed=3, progress=False,
        )  # fmt: skip
        draws[jit] = post.samples["theta"]
    assert np.unique(draws[False]).size > 20  # the chain moves
    np.testing.assert_allclose(draws[True], draws[False], atol=1e-5)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_pyro_kernels_resume_from_the_params_they_are_given(name):
    """A kernel handed params other than its last draw moves from them: one step from
    θ = 0.9 is the very step of a kernel started there, under the same seed."""
    import pyro
    import torch

    from probgen.programs import prepare

    sampler = SAMPLERS[name] or Independence({"theta": dist.Beta(2.0, 2.0)})
    program = prepare(registry.get("coin").program("pyro"), (10,), {"k": 7.0})
    moved = sampler.kernel(program, None)()
    moved.setup(0, *program.args, **program.kwargs)
    moved.sample(moved.initial_params)  # a draw of its own, which it then must not reuse
    started = sampler.kernel(program, {"theta": 0.9})()
    started.setup(0, *program.args, **program.kwargs)
    far = {"theta": moved.transforms["theta"](torch.tensor(0.9))}
    draws = []
    for kernel, params in ((moved, far), (started, started.initial_params)):
        pyro.set_rng_seed(5)
        draws.append(kernel.sample(params)["theta"])
    torch.testing.assert_close(draws[0], draws[1], rtol=0, atol=0)
    assert moved.info == started.info
