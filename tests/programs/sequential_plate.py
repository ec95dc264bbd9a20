"""A sequential plate, iterated in Python (``for i in pyro.plate(...)``): per-group means
with their own sample statement in each iteration."""

import numpy as np
import pyro
import pyro.distributions as pdist
from corpus import Case, tensor

_y = np.array([[0.3, 0.9, 0.5], [2.1, 1.7, 2.4], [-0.8, -1.2, -0.5]])


def groups(y):
    tau = pyro.sample("tau", pdist.HalfNormal(2.0))
    for i in pyro.plate("groups", len(y)):
        theta = pyro.sample(f"theta_{i}", pdist.Normal(0.0, tau))
        pyro.sample(f"y_{i}", pdist.Normal(theta, 0.5).expand([y.shape[1]]).to_event(1), obs=y[i])


CASES = [Case("sequential_plate", "pyro", groups, (tensor(_y),))]
