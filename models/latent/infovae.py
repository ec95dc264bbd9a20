"""InfoVAE / MMD-VAE (Zhao et al., 2017): the VAE's prior-matching term by MMD.

With z_i ~ q(z | x_i) (one reparameterized draw per example) and prior draws
z'_1..z'_B ~ N(0, I), the loss of a minibatch of B examples is

    loss = (1/B) Σ_i [−log p(x_i | z_i) + w_KL · KL(q(z | x_i) ‖ p(z))] + w_MMD · MMD²_u(z, z')

where MMD²_u is the unbiased U-statistic of ``mmd.py`` between the aggregate posterior
q(z) = E_x q(z | x) and p(z). In Zhao et al.'s notation w_KL = 1 − α and
w_MMD = α + λ − 1; the default w_KL = 0 (α = 1) is the MMD-VAE. The KL is analytic.

Its ``default_objective`` is ``"loss"``: this is not an ELBO of any model/guide pair (the
MMD term is not a log density, and it couples the examples of a batch), so it is fitted as
a plain loss.
The generative model p(z) p(x | z) and the encoder are the VAE's, so ``log_likelihood`` is
the same importance-sampled estimate of log p(x), with q(z | x) as proposal.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch.distributions import kl_divergence

from probgen import checks
from probgen.errors import ArgumentError
from probgen.models.latent.mmd import KERNELS, mmd2_unbiased
from probgen.models.latent.vae import VAE


class InfoVAE(VAE):
    """The VAE fitted by reconstruction + ``kl_weight``·KL + ``mmd_weight``·MMD²_u.

    ``kernel`` (``"gaussian"`` or ``"imq"``) and ``bandwidth`` choose the MMD kernel
    (see ``mmd.py``). Other arguments as ``VAE``. Tests:
    tests/models/test_latent_infovae.py (each loss term against its definition; the KL
    against Monte Carlo).
    """

    default_objective: ClassVar[str] = "loss"

    def __init__(
        self,
        *args: Any,
        mmd_weight: float = 100.0,
        kl_weight: float = 0.0,
        kernel: str = "gaussian",
        bandwidth: float | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if kernel not in KERNELS:
            raise ArgumentError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        self.mmd_weight = checks.non_negative_float("mmd_weight", mmd_weight)
        self.kl_weight = checks.non_negative_float("kl_weight", kl_weight)
        self.kernel = kernel
        self.bandwidth = (
            None if bandwidth is None else checks.positive_float("bandwidth", bandwidth)
        )

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unweighted terms, each a mean over the B ≥ 2 examples of ``x``:
        ``"reconstruction"`` −log p(x_i | z_i), ``"kl"`` KL(q(z | x_i) ‖ p(z)), and
        ``"mmd"`` MMD²_u(z, z') with B prior draws z'."""
        checks.batch(x, self.event_shape)
        q = self.posterior(x)
        z = q.rsample()
        prior = self.prior()
        return {
            "reconstruction": -self.likelihood.log_prob(self.decoder(z), x).mean(),
            "kl": kl_divergence(q, prior).mean(),
            "mmd": mmd2_unbiased(z, prior.sample((len(x),)), self.kernel, self.bandwidth),
        }

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """reconstruction + kl_weight · kl + mmd_weight · mmd (module docstring)."""
        terms = self.loss_terms(x)
        return (
            terms["reconstruction"] + self.kl_weight * terms["kl"] + self.mmd_weight * terms["mmd"]
        )
