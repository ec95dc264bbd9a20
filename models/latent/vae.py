"""The variational autoencoder (Kingma & Welling, 2014).

Generative model: z ~ N(0, I) in ℝ^d, x | z ~ p(x | decoder(z)) (Bernoulli, Gaussian or
categorical; see ``likelihoods.py``). Guide: q(z | x) = N(μ(x), diag σ²(x)) from the
encoder. ``pg.fit`` maximises the ELBO

    E_q[log p(x | z)] − KL(q(z | x) ‖ p(z))

with Pyro's ``Trace_ELBO`` (one reparameterized draw per example); ``elbo_estimate`` is
that estimate written as tensor operations, log p(x | z) + log p(z) − log q(z | x) at the
draw z ~ q(z | x).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyro
import pyro.distributions as dist
import torch
from torch import nn

from probgen import checks
from probgen.models.base import data_plate
from probgen.models.latent.base import LatentVariableModel
from probgen.models.latent.networks import MLP, GaussianMLP
from probgen.models.latent.reparameterized import draw


class VAE(LatentVariableModel):
    """p(z) = N(0, I_d), p(x | z) = likelihood(decoder(z)); q(z | x) = encoder(x).

    ``event_shape``: the shape of one example, e.g. (1, 8, 8) or (64,).
    ``hidden``: hidden widths of the default MLPs (encoder D-hidden-2d, decoder the
    reverse; D = the number of values in an example).
    ``likelihood``: ``"bernoulli"`` (x ∈ {0, 1}), ``"gaussian"`` (``scale`` = σ fixed, or
    learned when None) or ``"categorical"`` (x ∈ {0, …, ``levels`` − 1}).
    ``encoder``: a module x ↦ q(z | x), a distribution with event shape (d,), batch
    shape (B,). ``decoder``: a module z ↦ θ, shaped (..., *event_shape) — and
    (..., *event_shape, levels) for the categorical likelihood.

    Tests: tests/models/test_latent_gaussian.py (ELBO = closed form and ≤ log p(x) for a
    linear-Gaussian decoder, gap 0 at the exact posterior, IWAE convergence) and
    tests/models/test_latent_vae.py (draws, training steps, errors).
    """

    def __init__(
        self,
        event_shape: int | tuple[int, ...],
        latent_dim: int = 8,
        hidden: int | Sequence[int] = 256,
        likelihood: str = "bernoulli",
        *,
        scale: float | None = None,
        levels: int | None = None,
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
    ):
        super().__init__(event_shape, latent_dim, likelihood, scale, levels)
        self.latent_dim = latent_dim
        widths = checks.shape("hidden", hidden, empty=True)
        if encoder is None:
            encoder = GaussianMLP(self.event_shape, widths, latent_dim)
        if decoder is None:
            decoder = MLP((latent_dim,), widths[::-1], self.decoder_shape)
        self.encoder, self.decoder = encoder, decoder

    def posterior(self, x: torch.Tensor) -> dist.Distribution:
        """q(z | x), batch shape (B,)."""
        return self.encoder(x)

    def latent(self, name: str, fn: dist.Distribution) -> torch.Tensor:
        """The sample statement of a latent site, shared by ``model`` and ``guide``."""
        return pyro.sample(name, fn)

    def model(self, x: torch.Tensor, size: int | None = None) -> None:
        """z_i ~ N(0, I), x_i ~ p(x | decoder(z_i)) for the B examples of ``x``."""
        checks.batch(x, self.event_shape)
        with data_plate(x, size):
            z = self.latent("z", self.prior())
            pyro.sample("x", self.likelihood(self.decoder(z)), obs=x)

    def guide(self, x: torch.Tensor, size: int | None = None) -> None:
        """z_i ~ q(z | x_i) = N(μ(x_i), diag σ²(x_i))."""
        checks.batch(x, self.event_shape)
        with data_plate(x, size):
            self.latent("z", self.posterior(x))

    def elbo_estimate(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z_i) − log q(z_i | x_i) per example at one draw z_i ~ q(z | x_i): what
        Trace_ELBO takes from ``model`` and ``guide``, without tracing them."""
        return self.log_weight(x)

    def log_weight(self, x: torch.Tensor, particles: tuple[int, ...] = ()) -> torch.Tensor:
        """log w = log p(x | z) + log p(z) − log q(z | x) at draws z ~ q(z | x), shaped
        (*particles, B), the latent terms weighed as ``weigh_latent`` says."""
        z, log_q = draw(self.posterior(x), particles)
        log_ratio = self.prior_log_prob(z) - log_q
        return self.likelihood.log_prob(self.decoder(z), x) + self.weigh_latent(log_ratio)

    def weigh_latent(self, log_ratio: torch.Tensor) -> torch.Tensor:
        """The latent site's terms log p(z) − log q(z | x) as the programs weigh them: as
        they are (a subclass whose ``latent`` scales the site scales them here too)."""
        return log_ratio

    @torch.no_grad()
    def sample(self, n: int, mean: bool = False) -> torch.Tensor:
        """n new examples, shaped (n, *event_shape): z ~ N(0, I), then x ~ p(x | z) —
        or E[x | z] when ``mean`` (Bernoulli: probabilities in [0, 1] rather than draws
        in {0, 1})."""
        z = self.prior().sample((checks.positive_int("n", n),))
        return self.emit(self.decoder(z), mean)
