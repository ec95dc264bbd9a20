"""NumPyro's inverse autoregressive flow guide with probgen's clip on each layer's log σ
(``flows.py`` gives the flow guides of both libraries and says why the clip is wider)."""

from __future__ import annotations

import numpyro.distributions
import numpyro.infer.autoguide as numpyro_guides
from numpyro.distributions.flows import InverseAutoregressiveTransform

from probgen.inference.flows import IAF_LOG_SCALE_CLIP


class AutoIAF(numpyro_guides.AutoIAFNormal):
    """NumPyro's ``AutoIAFNormal`` with each layer's log σ clipped to ``IAF_LOG_SCALE_CLIP``.

    ``AutoIAFNormal`` keeps ``InverseAutoregressiveTransform``'s default clip [−5, 3]: its
    constructor has no clip argument (numpyro 0.22: ``num_flows``, ``hidden_dims``,
    ``skip_connections``, ``nonlinearity`` only), so no public path sets it. The layers are
    rebuilt around the same networks in ``_get_posterior``, the (underscored) hook that
    NumPyro's ``AutoContinuous`` guides implement and the one place that builds them.
    """

    def _get_posterior(self):
        flow = super()._get_posterior()
        layers = [
            InverseAutoregressiveTransform(t.arn, *IAF_LOG_SCALE_CLIP)
            if isinstance(t, InverseAutoregressiveTransform)
            else t
            for t in flow.transforms
        ]
        return numpyro.distributions.TransformedDistribution(flow.base_dist, layers)
