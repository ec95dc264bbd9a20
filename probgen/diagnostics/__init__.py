"""Posterior diagnostics built on ArviZ."""

from probgen.diagnostics.convergence import check

__all__ = ["check"]
