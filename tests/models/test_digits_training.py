"""Short trainings on the 8×8 digits with pg.fit: the held-out objective must improve.

Margins are about half of what a run of these settings gives (stated per test), so they
catch a loop that does not learn (wrong scaling, a frozen network, stale flow caches)
without depending on the last digits of the optimisation.
"""

import math

import pyro
import torch

import probgen as pg
from probgen.datasets import digits
from probgen.models import MAF, VAE, RealNVP


def _test_elbo(model, x: torch.Tensor) -> float:
    """The ELBO per example on ``x``, averaged over 10 draws of z per example."""
    elbo = pyro.infer.Trace_ELBO(num_particles=10)
    with torch.no_grad():
        return -elbo.loss(model.model, model.guide, x) / len(x)


def test_vae_on_binarized_digits_improves_its_test_elbo():
    data = digits(binarize=True)
    torch.manual_seed(0)
    vae = VAE(data.event_shape, latent_dim=8)
    before = _test_elbo(vae, data.test)
    run = pg.fit(vae, data, steps=300, batch_size=128, seed=0, progress=False)
    after = _test_elbo(vae, data.test)
    # a run of these settings goes from about −46 to −20 nats per example
    assert after > before + 15, (before, after)
    assert run.losses.shape == (300,) and run.losses[-20:].mean() < run.losses[:20].mean()
    samples = vae.sample(16)
    assert samples.shape == (16, 1, 8, 8)
    assert set(samples.unique().tolist()) <= {0.0, 1.0}
    means = vae.sample(16, mean=True)
    assert means.min() >= 0 and means.max() <= 1


def test_flows_on_dequantized_digits_improve_their_test_nll():
    data = digits(levels=17, dequantize=True)
    test = data.dequantized(data.test)
    for flow, margin in ((RealNVP(data.event_shape), 60.0), (MAF(data.event_shape), 60.0)):
        torch.manual_seed(0)
        before = -flow.log_likelihood(test).mean().item()
        pg.fit(flow, data, steps=200, batch_size=128, seed=0, progress=False)
        after = -flow.log_likelihood(test).mean().item()
        # RealNVP goes from about 57 to −79 nats per example, MAF from 66 to −59
        assert after < before - margin, (type(flow).__name__, before, after)
        bits = data.bits_per_dim(after)
        assert math.isfinite(bits) and 0 < bits < math.log2(17)
        samples = flow.sample(8)
        assert samples.shape == (8, 1, 8, 8) and torch.isfinite(samples).all()
