"""What the VAE family shares: a decoder likelihood, a standard-normal top prior, draws
of new data, and log p(x) by importance sampling with the guide as proposal.

Each model is p(x, z) = p(z) p(x | z) (z possibly several levels) with an amortised
guide q(z | x). ``log_likelihood`` returns, per example, the IWAE estimate

    log p̂(x) = log (1/K) Σ_k p(x, z_k) / q(z_k | x),   z_k ~ q(z | x),

a stochastic lower bound (in expectation) on log p(x) that tends to it as K grows
(tests/models/test_latent_gaussian.py checks it against the exact log p(x) of
linear-Gaussian models).

Each model also states its ELBO estimate as tensor operations, ``elbo_estimate(*data)``:
per example, the value that its bound ``elbo()`` takes on ``model`` and ``guide`` at the
same draws, before the minibatch scale N/B, computed without tracing the programs.
``pg.fit`` uses it after the first epoch, once it has matched the programs' bound, value
and gradient, at the run's first batch (inference/direct.py).
"""

from __future__ import annotations

import pyro.distributions as dist
import pyro.infer
import torch

from probgen import checks
from probgen.models.base import GenerativeModel
from probgen.models.latent.importance_weighted import ImportanceWeightedELBO
from probgen.models.latent.likelihoods import make_likelihood
from probgen.models.latent.reparameterized import HALF_LOG_2PI

# particles × examples scored at once by ``log_likelihood``; bounds its memory
PARTICLE_BUDGET = 2**16


class LatentVariableModel(GenerativeModel):
    """Base of the VAE family: the likelihood p(x | z), the prior N(0, I) of the top latent
    level (``prior_dim`` values), and the importance-sampled log-likelihood.

    Subclasses define ``model`` and ``guide`` with the examples in ``data_plate``, and
    ``elbo_estimate`` with them (see the module docstring).
    """

    def __init__(
        self,
        event_shape: int | tuple[int, ...],
        prior_dim: int,
        likelihood: str,
        scale: float | None,
        levels: int | None,
    ):
        super().__init__()
        self.event_shape = checks.shape("event_shape", event_shape)
        self.likelihood = make_likelihood(likelihood, self.event_shape, scale, levels)
        prior_dim = checks.positive_int("latent_dim", prior_dim)
        self.register_buffer("prior_loc", torch.zeros(prior_dim))
        self.register_buffer("prior_scale", torch.ones(prior_dim))

    def elbo(self) -> pyro.infer.ELBO:
        """The bound that the ``"elbo"`` objective maximises: Pyro's ``Trace_ELBO``."""
        return pyro.infer.Trace_ELBO()

    @property
    def decoder_shape(self) -> tuple[int, ...]:
        """The shape of the decoder's output per example: (*event_shape, *param_shape)."""
        return self.event_shape + self.likelihood.param_shape

    def check_data(self, x: torch.Tensor) -> None:
        """Check a data set once, before scoring it (``log_likelihood``): shape
        (N, *event_shape), finite values, all in the support of the likelihood (e.g. {0, 1}
        for Bernoulli). The programs themselves check only the shape, which costs nothing
        per step."""
        checks.batch(x, self.event_shape)
        checks.finite(x)
        self.likelihood.check(x)

    def prior(self) -> dist.Independent:
        """p(z) = N(0, I) of the top latent level."""
        return dist.Normal(self.prior_loc, self.prior_scale).to_event(1)

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z; 0, I) = −½‖z‖² − (d/2) log 2π: ``prior().log_prob(z)``, written out (its
        location and scale are 0 and 1) for ``elbo_estimate``."""
        return -0.5 * (z.square() + 2 * HALF_LOG_2PI).sum(-1)

    def emit(self, params: torch.Tensor, mean: bool) -> torch.Tensor:
        """Data from decoder outputs θ: a draw x ~ p(x | θ), or E[x | θ] when ``mean``."""
        if mean:
            return self.likelihood.mean(params)
        return self.likelihood(params).sample().to(params.dtype)

    def log_likelihood(
        self, x: torch.Tensor, particles: int = 1000, batch_size: int | None = None
    ) -> torch.Tensor:
        """log p(x_i) per example in nats, the IWAE estimate with K = ``particles`` draws
        z_k of all the latent sites (every level of a hierarchical VAE) from the guide:
        log (1/K) Σ_k p(x_i, z_k) / q(z_k | x_i)."""
        return self.importance_log_likelihood(x, particles=particles, batch_size=batch_size)

    @torch.no_grad()
    def importance_log_likelihood(
        self, *data: torch.Tensor, particles: int, batch_size: int | None
    ) -> torch.Tensor:
        """log p̂(x_i) = log (1/K) Σ_k p(x_i, z_k)/q(z_k | x_i) for each example; ``data``
        are the arguments of ``model``/``guide``, split into chunks of ``batch_size``
        examples (by default as many as keep K × chunk ≤ ``PARTICLE_BUDGET``)."""
        self.check_data(data[0])
        estimator = ImportanceWeightedELBO(checks.positive_int("particles", particles))
        if batch_size is None:
            batch_size = max(1, PARTICLE_BUDGET // particles)
        chunk = checks.positive_int("batch_size", batch_size)
        return torch.cat(
            [
                estimator.bound(self.model, self.guide, *(d[i : i + chunk] for d in data))
                for i in range(0, len(data[0]), chunk)
            ]
        )
