"""Vector quantization with a straight-through gradient (van den Oord et al., 2017).

A codebook e_1..e_K ∈ ℝ^d maps each encoder vector z_e to its nearest code,
k*(z_e) = argmin_k ‖z_e − e_k‖², and passes z_q = z_e + sg[e_k* − z_e] on: its value is
e_k*, its gradient is the identity to z_e (sg = stop-gradient, ``detach``), so the
decoder's gradient reaches the encoder and not the codebook.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from probgen import checks


class Quantized(NamedTuple):
    """``straight_through`` z_e + sg[e − z_e]; ``codes`` the chosen e (gradient to the
    codebook only); ``indices`` k*, shaped like z_e without its last dim."""

    straight_through: torch.Tensor
    codes: torch.Tensor
    indices: torch.Tensor


class VectorQuantizer(nn.Module):
    """k*(z) = argmin_k ‖z − e_k‖² over a learned codebook of ``num_codes`` vectors of
    ``dim`` values, initialised uniform in (−1/K, 1/K) as in the paper.

    Tests: tests/models/test_latent_vqvae.py (brute-force nearest neighbour; which
    parameters each loss term reaches).
    """

    def __init__(self, num_codes: int, dim: int):
        super().__init__()
        k = checks.positive_int("num_codes", num_codes)
        self.codebook = nn.Parameter(torch.empty(k, checks.positive_int("dim", dim)))
        nn.init.uniform_(self.codebook, -1 / k, 1 / k)

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """k*(z) for each vector of z (..., dim), from ‖z‖² − 2 z·e_k + ‖e_k‖²."""
        z, codebook = z.detach(), self.codebook.detach()
        squared = z.pow(2).sum(-1, keepdim=True) - 2 * z @ codebook.T + codebook.pow(2).sum(-1)
        return squared.argmin(-1)

    def forward(self, z: torch.Tensor) -> Quantized:
        indices = self.nearest(z)
        codes = self.codebook[indices]
        return Quantized(z + (codes - z).detach(), codes, indices)
