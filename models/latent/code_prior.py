"""A first-order Markov chain over sequences of code indices, fitted by counting.

For codes c = (c_1, …, c_T) ∈ {0, …, K−1}^T,

    p(c) = π(c_1) Π_{t=2..T} P_t(c_t | c_{t−1}),

with a transition matrix P_t for each position (the positions of a VQ-VAE's code
sequence differ in meaning). Fitting is exact and closed-form: with n the counts in the
training codes and a pseudo-count a > 0 (the posterior mean under a Dirichlet(a) prior),

    π(j) = (n_1(j) + a) / (N + K a),   P_t(j | i) = (n_t(i, j) + a) / (n_{t−1}(i) + K a).

Before fitting, π and every P_t are uniform: p(c) = K^−T, the uniform prior.
"""

from __future__ import annotations

import torch
from torch import nn

from probgen import checks
from probgen.errors import DataError


class MarkovCodePrior(nn.Module):
    """p(c) = π(c_1) Π_t P_t(c_t | c_{t−1}) over ``length`` codes from ``num_codes``.

    Tests: tests/models/test_latent_vqvae.py (probabilities sum to 1 by enumeration; the
    fit equals the count formula; draws follow p).
    """

    def __init__(self, num_codes: int, length: int):
        super().__init__()
        self.num_codes = checks.positive_int("num_codes", num_codes)
        self.length = checks.positive_int("length", length)
        uniform = -torch.log(torch.tensor(float(num_codes)))
        self.register_buffer("log_initial", uniform.expand(num_codes).clone())
        self.register_buffer(
            "log_transition", uniform.expand(length - 1, num_codes, num_codes).clone()
        )

    def check_codes(self, codes: torch.Tensor) -> None:
        """Check that ``codes`` is an integer tensor (n, T) of indices in 0..K−1."""
        if codes.dim() != 2 or codes.shape[1] != self.length or codes.is_floating_point():
            raise DataError(
                f"codes must be an integer tensor (n, {self.length}), got {tuple(codes.shape)}"
            )
        if codes.numel() and not 0 <= int(codes.min()) <= int(codes.max()) < self.num_codes:
            raise DataError(f"codes must lie in 0..{self.num_codes - 1}")

    @torch.no_grad()
    def fit(self, codes: torch.Tensor, smoothing: float = 1.0) -> None:
        """Set π and P_t to the smoothed frequencies of ``codes`` (n, T), pseudo-count
        ``smoothing`` (module docstring)."""
        self.check_codes(codes)
        a = checks.positive_float("smoothing", smoothing)
        k, dtype = self.num_codes, self.log_initial.dtype
        initial = torch.bincount(codes[:, 0], minlength=k).to(dtype) + a
        transition = torch.full((self.length - 1, k, k), a, dtype=dtype, device=codes.device)
        steps = torch.arange(1, self.length, device=codes.device).expand_as(codes[:, 1:])
        ones = torch.ones(steps.shape, dtype=dtype, device=codes.device)
        transition.index_put_((steps - 1, codes[:, :-1], codes[:, 1:]), ones, accumulate=True)
        self.log_initial.copy_((initial / initial.sum()).log())
        self.log_transition.copy_((transition / transition.sum(-1, keepdim=True)).log())

    def log_prob(self, codes: torch.Tensor) -> torch.Tensor:
        """log p(c) for each row of ``codes`` (n, T), shaped (n,)."""
        self.check_codes(codes)
        steps = torch.arange(self.length - 1, device=codes.device)
        moves = self.log_transition[steps, codes[:, :-1], codes[:, 1:]]
        return self.log_initial[codes[:, 0]] + moves.sum(-1)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n code sequences (n, T) by ancestral sampling: c_1 ~ π, c_t ~ P_t(· | c_{t−1})."""
        n = checks.positive_int("n", n)
        codes = [torch.distributions.Categorical(logits=self.log_initial).sample((n,))]
        for step in self.log_transition:
            codes.append(torch.distributions.Categorical(logits=step[codes[-1]]).sample())
        return torch.stack(codes, dim=-1)
