"""The Metropolis accept/reject step, once in JAX and once in torch.

Given the log acceptance ratio log α of a proposal y made from the current state x (for
MH, log α = log p̃(y) − log p̃(x) + log g(x | y) − log g(y | x); ``mh.py`` and
``langevin.py`` compute it), the step keeps y with probability

    α = min(1, exp(log α)),

and x otherwise: it draws u ~ U(0, 1) and accepts where u < α. A NaN log α (for example
−∞ − (−∞), or a proposal whose density failed to evaluate) counts as α = 0, a rejection.
An unadjusted step (ULA, SGLD) has no α; ``keep_finite_*`` rejects only the proposals
whose log density is −∞ or NaN (outside the support, or an invalid parameter).
This comparison is BlackJAX's (``jax.random.bernoulli(key, α)``), so a probgen chain and a
BlackJAX chain from the same key agree draw for draw.

A state is a tuple (a ``NamedTuple``) of arrays whose leading axes are those of log α:
one accept/reject decision per chain of a batch, applied to every field of the state.
"""

from __future__ import annotations

from typing import TypeVar

from probgen import lazy

jax = lazy.load("jax", globals())
jnp = lazy.load("jax.numpy", globals())
torch = lazy.load("torch", globals())

State = TypeVar("State")


def accept_jax(
    key: jax.Array, log_alpha: jax.Array, proposal: State, current: State
) -> tuple[State, jax.Array, jax.Array]:
    """Keep ``proposal`` with probability α = min(1, exp ``log_alpha``), else ``current``.

    Returns the new state, α and the accepted mask (shaped like ``log_alpha``).
    """
    accept_prob = jnp.exp(jnp.minimum(jnp.where(jnp.isnan(log_alpha), -jnp.inf, log_alpha), 0.0))
    accepted = jax.random.uniform(key, jnp.shape(log_alpha)) < accept_prob
    return _select_jax(accepted, proposal, current), accept_prob, accepted


def accept_torch(
    log_alpha: torch.Tensor,
    proposal: State,
    current: State,
    generator: torch.Generator | None = None,
) -> tuple[State, torch.Tensor, torch.Tensor]:
    """As ``accept_jax``, with u from ``generator`` (None: torch's global RNG).

    ``proposal`` and ``current`` are tuples of tensors of the same type; each chain (an
    entry of ``log_alpha``) accepts or rejects on its own.
    """
    accept_prob = torch.nan_to_num(log_alpha.clamp(max=0.0).exp(), nan=0.0)
    u = torch.rand(
        size=log_alpha.shape, generator=generator, dtype=log_alpha.dtype, device=log_alpha.device
    )
    accepted = u < accept_prob
    return _select_torch(accepted, proposal, current), accept_prob, accepted


def keep_finite_jax(
    logdensity: jax.Array, proposal: State, current: State
) -> tuple[State, jax.Array]:
    """The rule of an unadjusted step (ULA, SGLD): keep ``proposal`` where its
    ``logdensity`` is finite, else ``current``, so that a proposal outside the support or
    with an invalid parameter (log p = −∞ or NaN) is rejected. Returns the state and the
    acceptance (1 or 0), shaped like ``logdensity``."""
    finite = jnp.isfinite(logdensity)
    return _select_jax(finite, proposal, current), finite.astype(jnp.result_type(logdensity))


def keep_finite_torch(
    logdensity: torch.Tensor, proposal: State, current: State
) -> tuple[State, torch.Tensor]:
    """As ``keep_finite_jax``, in torch: each chain (an entry of ``logdensity``) on its own."""
    finite = torch.isfinite(logdensity)
    return _select_torch(finite, proposal, current), finite.to(logdensity.dtype)


def _select_jax(accepted: jax.Array, proposal: State, current: State) -> State:
    """Each field of ``proposal`` where ``accepted``, of ``current`` elsewhere."""
    return jax.tree.map(
        lambda y, x: jnp.where(_lift(accepted, jnp.ndim(y)), y, x), proposal, current
    )


def _select_torch(accepted: torch.Tensor, proposal: State, current: State) -> State:
    """As ``_select_jax``, for a tuple of tensors."""
    masks = {accepted.dim(): accepted}  # ``accepted`` lifted to each field's number of axes
    fields = []
    for y, x in zip(proposal, current, strict=True):
        if y.dim() not in masks:
            masks[y.dim()] = accepted.view(*accepted.shape, *[1] * (y.dim() - accepted.dim()))
        fields.append(torch.where(masks[y.dim()], y, x))
    return type(current)(*fields)


def _lift(mask: jax.Array, ndim: int) -> jax.Array:
    """``mask`` with trailing unit axes, to broadcast against an array of ``ndim`` axes."""
    return mask.reshape(mask.shape + (1,) * (ndim - mask.ndim))
