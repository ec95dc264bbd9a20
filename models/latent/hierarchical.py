"""A Markovian hierarchical VAE with L ≥ 2 latent levels z₁ (nearest x), …, z_L.

Generative model: z_L ~ N(0, I), z_l | z_{l+1} ~ N(μ_l(z_{l+1}), diag σ_l²(z_{l+1})) for
l = L − 1, …, 1, x | z₁ ~ p(x | decoder(z₁)). Guide (bottom-up, Markovian):
q(z₁ | x) q(z₂ | z₁) ⋯ q(z_L | z_{L−1}). Sites are named ``"z1"``, …, ``"zL"``. The ELBO is

    E_q[log p(x | z₁) + Σ_{l<L} log p(z_l | z_{l+1}) + log p(z_L) − Σ_l log q(z_l | z_{l−1})]

(z₀ = x), and ``log_likelihood`` importance-samples all levels jointly from the guide.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyro
import torch
from torch import nn

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.base import data_plate
from probgen.models.latent.base import LatentVariableModel
from probgen.models.latent.networks import MLP, GaussianMLP
from probgen.models.latent.reparameterized import draw


class HierarchicalVAE(LatentVariableModel):
    """p(x | z₁) Π_{l<L} p(z_l | z_{l+1}) p(z_L); q(z₁ | x) Π_{l>1} q(z_l | z_{l−1}).

    ``latent_dim``: one width for every level (``depth`` levels, default 2), or a
    sequence (d₁, …, d_L) with L ≥ 2. ``encoders``: L modules, the l-th mapping z_{l−1}
    (x for l = 1) to q(z_l | ·). ``conditionals``: L − 1 modules, the l-th mapping z_{l+1}
    to p(z_l | ·). ``decoder``: z₁ ↦ θ of p(x | θ). Defaults: MLPs with ``hidden``.
    Other arguments as ``VAE``. Tests: tests/models/test_latent_gaussian.py (ELBO ≤
    log p(x) and the IWAE estimate → log p(x), exact for linear-Gaussian levels).
    """

    def __init__(
        self,
        event_shape: int | tuple[int, ...],
        latent_dim: int | Sequence[int] = 8,
        hidden: int | Sequence[int] = 256,
        likelihood: str = "bernoulli",
        *,
        depth: int | None = None,
        scale: float | None = None,
        levels: int | None = None,
        encoders: Sequence[nn.Module] | None = None,
        conditionals: Sequence[nn.Module] | None = None,
        decoder: nn.Module | None = None,
    ):
        dims = self._level_dims(latent_dim, depth)
        super().__init__(event_shape, dims[-1], likelihood, scale, levels)
        self.latent_dims = dims
        widths = checks.shape("hidden", hidden, empty=True)
        if encoders is None:
            inputs = [self.event_shape, *((d,) for d in dims[:-1])]
            encoders = [GaussianMLP(u, widths, d) for u, d in zip(inputs, dims, strict=True)]
        if conditionals is None:
            conditionals = [
                GaussianMLP((u,), widths, d) for u, d in zip(dims[1:], dims[:-1], strict=True)
            ]
        if decoder is None:
            decoder = MLP((dims[0],), widths[::-1], self.decoder_shape)
        if len(encoders) != len(dims) or len(conditionals) != len(dims) - 1:
            raise ArgumentError(
                f"a {len(dims)}-level model needs {len(dims)} encoders and {len(dims) - 1} "
                f"conditionals; got {len(encoders)} and {len(conditionals)}"
            )
        self.encoders = nn.ModuleList(encoders)
        self.conditionals = nn.ModuleList(conditionals)
        self.decoder = decoder

    @staticmethod
    def _level_dims(latent_dim: int | Sequence[int], depth: int | None) -> tuple[int, ...]:
        if isinstance(latent_dim, int):
            depth = 2 if depth is None else checks.positive_int("depth", depth)
            dims = (checks.positive_int("latent_dim", latent_dim),) * depth
        else:
            dims = checks.shape("latent_dim", latent_dim)
            if depth is not None and depth != len(dims):
                raise ArgumentError(
                    f"depth={depth} disagrees with the {len(dims)} widths in latent_dim; "
                    "give one of them"
                )
        if len(dims) < 2:
            raise ArgumentError(f"a hierarchical VAE needs ≥ 2 latent levels, got {len(dims)}")
        return dims

    def model(self, x: torch.Tensor, size: int | None = None) -> None:
        """z_L ~ N(0, I); z_l ~ p(z_l | z_{l+1}) for l = L − 1, …, 1; x ~ p(x | z₁)."""
        checks.batch(x, self.event_shape)
        with data_plate(x, size):
            z = pyro.sample(f"z{len(self.latent_dims)}", self.prior())
            for level in range(len(self.conditionals), 0, -1):
                z = pyro.sample(f"z{level}", self.conditionals[level - 1](z))
            pyro.sample("x", self.likelihood(self.decoder(z)), obs=x)

    def guide(self, x: torch.Tensor, size: int | None = None) -> None:
        """z₁ ~ q(z₁ | x), then z_l ~ q(z_l | z_{l−1}) for l = 2, …, L."""
        checks.batch(x, self.event_shape)
        with data_plate(x, size):
            h = x
            for level, encoder in enumerate(self.encoders, start=1):
                h = pyro.sample(f"z{level}", encoder(h))

    def elbo_estimate(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x, z₁, …, z_L) − log q(z₁, …, z_L | x) per example at one draw of every level
        from the guide: what Trace_ELBO takes from ``model`` and ``guide``, the networks
        called in the programs' order."""
        levels, log_q = [x], 0.0
        for encoder in self.encoders:
            z, log_q_level = draw(encoder(levels[-1]))
            levels.append(z)
            log_q = log_q + log_q_level
        log_p = self.prior_log_prob(levels[-1])
        for level in range(len(self.conditionals), 0, -1):
            log_p = log_p + self.conditionals[level - 1](levels[level + 1]).log_prob(levels[level])
        return log_p + self.likelihood.log_prob(self.decoder(levels[1]), x) - log_q

    @torch.no_grad()
    def sample(self, n: int, mean: bool = False) -> torch.Tensor:
        """n new examples, shaped (n, *event_shape), by ancestral sampling from z_L down;
        x ~ p(x | z₁), or E[x | z₁] when ``mean``."""
        z = self.prior().sample((checks.positive_int("n", n),))
        for conditional in reversed(self.conditionals):
            z = conditional(z).sample()
        return self.emit(self.decoder(z), mean)
