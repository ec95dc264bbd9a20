"""NeuTra (``NeuTraReparam``) written by the user: an IAF guide fitted by SVI warps Neal's
funnel, and the reparametrised program is what MCMC samples (NumPyro's NeuTra example)."""

import jax
import numpyro
import numpyro.distributions as dist
from corpus import Case
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoIAFNormal
from numpyro.infer.reparam import NeuTraReparam
from numpyro.optim import Adam


def funnel():
    v = numpyro.sample("v", dist.Normal(0.0, 3.0))
    numpyro.sample("x", dist.Normal(0.0, jax.numpy.exp(v / 2)).expand([2]).to_event(1))


_guide = AutoIAFNormal(funnel, num_flows=1, hidden_dims=[8])
_fit = SVI(funnel, _guide, Adam(1e-2), Trace_ELBO()).run(
    jax.random.PRNGKey(0), 200, progress_bar=False
)
_neutra = NeuTraReparam(_guide, _fit.params)
warped_funnel = _neutra.reparam(funnel)

CASES = [Case("neutra_reparam", "numpyro", warped_funnel)]
