"""The VQ-VAE (van den Oord et al., 2017): an autoencoder with a discrete code sequence.

The encoder maps x to T vectors z_e ∈ ℝ^d; each is replaced by its nearest codebook
vector e (``quantizer.py``), and the decoder reconstructs x̂ = D(z_q) from the straight-
through z_q. The loss of a minibatch (objective ``"loss"``) is

    loss = ‖x − D(z_q)‖² + ‖sg[z_e] − e‖² + β ‖z_e − sg[e]‖²,   β = 0.25,

each squared norm summed over the values of one example (all of x; all T·d code values)
and averaged over the examples. The terms are the reconstruction (gradient to encoder,
via the straight-through estimator, and decoder), the codebook term (codebook only) and
the commitment term (encoder only).

New data: code sequences from a prior over the indices, then x̂ = D(e_c). The prior is a
first-order Markov chain (``code_prior.py``), uniform until ``fit_prior`` fits it to the
training codes after training. The VQ-VAE has no likelihood (its decoder is a point
estimate), so it offers no ``log_likelihood``: none would be a true density of x.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from probgen import checks
from probgen.models.base import GenerativeModel
from probgen.models.latent.code_prior import MarkovCodePrior
from probgen.models.latent.networks import MLP
from probgen.models.latent.quantizer import VectorQuantizer


class VQVAE(GenerativeModel):
    """Encoder x ↦ z_e (T, d), quantizer with ``num_codes`` codes, decoder z_q ↦ x̂.

    ``latent_dim``: d, the size of a code vector; ``positions``: T, the length of the code
    sequence of one example; ``beta``: the commitment weight β. ``encoder``: a module
    x ↦ z_e shaped (B, T, d); ``decoder``: z_q (B, T, d) ↦ x̂ (B, *event_shape); defaults:
    MLPs with ``hidden``. Tests: tests/models/test_latent_vqvae.py.
    """

    default_objective: ClassVar[str] = "loss"

    def __init__(
        self,
        event_shape: int | tuple[int, ...],
        latent_dim: int = 8,
        hidden: int | Sequence[int] = 256,
        *,
        num_codes: int = 32,
        positions: int = 4,
        beta: float = 0.25,
        encoder: nn.Module | None = None,
        decoder: nn.Module | None = None,
    ):
        super().__init__()
        self.event_shape = checks.shape("event_shape", event_shape)
        code_shape = (
            checks.positive_int("positions", positions),
            checks.positive_int("latent_dim", latent_dim),
        )
        widths = checks.shape("hidden", hidden, empty=True)
        self.beta = checks.positive_float("beta", beta)
        if encoder is None:
            encoder = MLP(self.event_shape, widths, code_shape)
        if decoder is None:
            decoder = MLP(code_shape, widths[::-1], self.event_shape)
        self.encoder, self.decoder = encoder, decoder
        self.quantizer = VectorQuantizer(num_codes, latent_dim)
        self.prior = MarkovCodePrior(num_codes, positions)

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``"reconstruction"`` ‖x − D(z_q)‖², ``"codebook"`` ‖sg[z_e] − e‖² and
        ``"commitment"`` β‖z_e − sg[e]‖², each summed within an example and averaged
        over the batch."""
        checks.batch(x, self.event_shape)
        z_e = self.encoder(x)
        quantized = self.quantizer(z_e)
        squared = (x - self.decoder(quantized.straight_through)).pow(2)
        return {
            "reconstruction": squared.flatten(1).sum(-1).mean(),
            "codebook": (z_e.detach() - quantized.codes).pow(2).flatten(1).sum(-1).mean(),
            "commitment": self.beta
            * (z_e - quantized.codes.detach()).pow(2).flatten(1).sum(-1).mean(),
        }

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """The sum of the three terms of ``loss_terms``: what ``pg.fit`` minimises."""
        return sum(self.loss_terms(x).values())

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code indices k*(z_e(x)) of each example, shaped (B, T)."""
        checks.batch(x, self.event_shape)
        return self.quantizer.nearest(self.encoder(x))

    @torch.no_grad()
    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """x̂ = D(e_c) for code sequences c (n, T), shaped (n, *event_shape)."""
        self.prior.check_codes(codes)
        return self.decoder(self.quantizer.codebook[codes])

    def check_data(self, x: torch.Tensor) -> None:
        """Check a data set once, before fitting the prior to it: shape (N, *event_shape), finite
        values (``loss`` checks only the shape, which costs nothing per step)."""
        checks.batch(x, self.event_shape)
        checks.finite(x)

    def fit_prior(self, x: torch.Tensor, smoothing: float = 1.0) -> None:
        """Fit the Markov prior over codes to the codes of the training data ``x``."""
        self.check_data(x)
        self.prior.fit(self.encode(x), smoothing)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n new examples D(e_c), c ~ the code prior, shaped (n, *event_shape)."""
        return self.decode(self.prior.sample(n))
