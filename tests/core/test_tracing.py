"""The program's one trace (probgen.tracing): a NumPyro program is staged, not compiled.

References: JAX's own compilation events (``jax.monitoring``) count what XLA compiled; the
values the trace reports are those of NumPyro's eager trace of the same program at the
same point; raw NumPyro fails, as probgen does, on a program that JAX cannot stage.
"""

import contextlib

import jax
import jax.monitoring
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as ndist
import pytest
from numpyro.contrib.control_flow import scan

import probgen as pg
from probgen.programs import prepare

COMPILE = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def compilations():
    """The number of programs XLA compiles inside the block."""
    count = []

    def listen(event, duration, **kwargs):
        if event == COMPILE:
            count.append(event)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield count
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def ar1(y):
    rho = numpyro.sample("rho", ndist.Uniform(-1.0, 1.0))
    sigma = numpyro.sample("sigma", ndist.HalfNormal(1.0))

    def step(previous, y_t):
        numpyro.sample("y", ndist.Normal(rho * previous, sigma), obs=y_t)
        return y_t, None

    scan(step, y[0], y[1:])
    numpyro.deterministic("level", jnp.log(sigma) + jnp.mean(y))


def test_a_scan_program_is_staged_and_its_data_checked_by_one_small_compilation():
    y = jnp.asarray(np.random.default_rng(0).normal(size=30), jnp.float32)
    program = prepare(ar1, (y,), {}, init={"rho": 0.5, "sigma": 2.0})
    with compilations() as compiled:
        sites = program.sites()
    assert compiled == []
    assert sites["y"].shape == (29,) and not sites["y"].from_latents
    assert sites["level"].from_latents and sites["level"].kind == "deterministic"
    with compilations() as compiled:
        program.check_data()
    assert len(compiled) <= 1  # only the observed values, computed from the data
    # the values are NumPyro's own eager trace's at the same point
    fixed = numpyro.handlers.substitute(ar1, data={"rho": 0.5, "sigma": 2.0})
    eager = numpyro.handlers.trace(numpyro.handlers.seed(fixed, 0)).get_trace(y)
    for name, value in program.values().items():
        np.testing.assert_allclose(value, eager[name]["value"], rtol=1e-6, err_msg=name)


def test_a_support_that_depends_on_another_site_is_read_at_the_init_point():
    def model():
        scale = numpyro.sample("scale", ndist.HalfNormal(1.0))
        numpyro.sample("x", ndist.Uniform(0.0, scale))

    with pytest.raises(pg.ArgumentError, match=r"site 'x' lies outside"):
        pg.mcmc(model, init={"scale": 1.0, "x": 2.0}, progress=False)
    support = prepare(model, (), {}, init={"scale": 3.0, "x": 2.0}).supports(["x"])["x"]
    assert float(support.upper_bound) == 3.0


def test_a_program_that_jax_cannot_stage_is_refused_as_numpyro_refuses_it():
    def model(y):
        mu = numpyro.sample("mu", ndist.Normal(0.0, 1.0))
        if jnp.any(y < 0):  # a Python branch on a value computed inside the program
            y = -y
        numpyro.sample("y", ndist.Normal(mu, 1.0), obs=y)

    y = jnp.ones(3)
    raw = numpyro.infer.MCMC(
        numpyro.infer.NUTS(model), num_warmup=5, num_samples=5, progress_bar=False
    )
    with pytest.raises(jax.errors.TracerBoolConversionError):
        raw.run(jax.random.PRNGKey(0), y)
    with pytest.raises(pg.ModelError, match=r"after its sample site 'mu' when JAX traces"):
        pg.mcmc(model, y, progress=False)


def test_a_density_that_jax_cannot_stage_names_its_site():
    class Branching(ndist.Normal):
        def log_prob(self, value):
            if jnp.any(value > self.loc):  # a Python branch on a staged value
                return super().log_prob(value)
            return super().log_prob(2 * self.loc - value)

    def model(y):
        mu = numpyro.sample("mu", ndist.Normal(0.0, 1.0))
        numpyro.sample("y", Branching(mu, 1.0), obs=y)

    with pytest.raises(pg.ModelError, match=r"at its sample site 'y' when JAX traces"):
        pg.mcmc(model, jnp.ones(3), progress=False)
