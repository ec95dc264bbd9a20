"""The conditional VAE (Sohn et al., 2015): a VAE of x given a class label y.

Generative model: z ~ N(0, I), x | z, y ~ p(x | decoder(z, onehot(y))); guide
q(z | x, y) = N(μ(x, y), diag σ²(x, y)). The ELBO of log p(x | y) is
E_q[log p(x | z, y)] − KL(q(z | x, y) ‖ p(z)).

Convention: labels are integer class indices y ∈ {0, …, num_classes − 1} of shape (B,),
passed after x: ``model(x, y, size=None)``, ``guide(x, y, size=None)``,
``log_likelihood(x, y)``, ``sample(n, y)``; the one-hot encoding happens inside. A data
set for ``pg.fit`` is the pair (x, y), unpacked into these arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from torch import nn

from probgen import checks
from probgen.errors import DataError
from probgen.models.base import data_plate
from probgen.models.latent.base import LatentVariableModel
from probgen.models.latent.networks import MLP, GaussianMLP
from probgen.models.latent.reparameterized import draw


class ConditionalVAE(LatentVariableModel):
    """p(z) = N(0, I_d), p(x | z, y) = likelihood(decoder(z, onehot(y))); q(z | x, y) =
    encoder(x, onehot(y)).

    Arguments as ``VAE``, plus ``num_classes``; a custom ``encoder`` takes (x, onehot y)
    and returns q(z | x, y), a custom ``decoder`` takes (z, onehot y) and returns θ.
    Tests: tests/models/test_latent_gaussian.py (zero gap at the exact posterior of a
    linear-Gaussian decoder, with log p(x | y) in closed form; draws of a class).
    """

    conditional = True

    def __init__(
        self,
        event_shape: int | tuple[int, ...],
        num_classes: int,
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
        self.num_classes = checks.positive_int("num_classes", num_classes)
        self.latent_dim = latent_dim
        widths = checks.shape("hidden", hidden, empty=True)
        if encoder is None:
            encoder = GaussianMLP(self.event_shape, widths, latent_dim, num_classes)
        if decoder is None:
            decoder = MLP((latent_dim,), widths[::-1], self.decoder_shape, num_classes)
        self.encoder, self.decoder = encoder, decoder

    def one_hot(self, y: torch.Tensor, n: int, dtype: torch.dtype) -> torch.Tensor:
        """onehot(y), shaped (n, num_classes), after checking that y holds n class indices."""
        if not isinstance(y, torch.Tensor) or y.shape != (n,) or y.is_floating_point():
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise DataError(f"y must be an integer tensor of {n} class labels, got {shape}")
        if len(y) and not 0 <= int(y.min()) <= int(y.max()) < self.num_classes:
            raise DataError(f"y must hold class labels in 0..{self.num_classes - 1}")
        return F.one_hot(y, self.num_classes).to(dtype)

    def posterior(self, x: torch.Tensor, y: torch.Tensor) -> dist.Distribution:
        """q(z | x, y), batch shape (B,)."""
        return self.encoder(x, self.one_hot(y, len(x), x.dtype))

    def model(self, x: torch.Tensor, y: torch.Tensor, size: int | None = None) -> None:
        """z_i ~ N(0, I), x_i ~ p(x | decoder(z_i, onehot(y_i)))."""
        checks.batch(x, self.event_shape)
        label = self.one_hot(y, len(x), x.dtype)
        with data_plate(x, size):
            z = pyro.sample("z", self.prior())
            pyro.sample("x", self.likelihood(self.decoder(z, label)), obs=x)

    def guide(self, x: torch.Tensor, y: torch.Tensor, size: int | None = None) -> None:
        """z_i ~ q(z | x_i, y_i)."""
        checks.batch(x, self.event_shape)
        with data_plate(x, size):
            pyro.sample("z", self.posterior(x, y))

    def elbo_estimate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log p(x_i, z_i | y_i) − log q(z_i | x_i, y_i) per example at one draw
        z_i ~ q(z | x_i, y_i): what Trace_ELBO takes from ``model`` and ``guide``. The labels
        are not checked here (``pg.fit`` runs the programs, which check them, first)."""
        label = F.one_hot(y, self.num_classes).to(x.dtype)
        z, log_q = draw(self.encoder(x, label))
        log_p = self.prior_log_prob(z) + self.likelihood.log_prob(self.decoder(z, label), x)
        return log_p - log_q

    @torch.no_grad()
    def sample(self, n: int, y: int | torch.Tensor, mean: bool = False) -> torch.Tensor:
        """n new examples of class ``y`` (one label, or n labels), shaped
        (n, *event_shape): z ~ N(0, I), x ~ p(x | z, y), or E[x | z, y] when ``mean``."""
        n = checks.positive_int("n", n)
        labels = torch.as_tensor(y, device=self.prior_loc.device)
        if labels.dim() == 0:
            labels = labels.expand(n)
        z = self.prior().sample((n,))
        return self.emit(self.decoder(z, self.one_hot(labels, n, z.dtype)), mean)

    def log_likelihood(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        particles: int = 1000,
        batch_size: int | None = None,
    ) -> torch.Tensor:
        """log p(x_i | y_i) per example in nats, the IWAE estimate with K = ``particles``:
        log (1/K) Σ_k p(x_i, z_k | y_i) / q(z_k | x_i, y_i)."""
        checks.batch(x, self.event_shape)
        self.one_hot(y, len(x), x.dtype)  # checks y whole, before it is cut into chunks
        return self.importance_log_likelihood(x, y, particles=particles, batch_size=batch_size)
