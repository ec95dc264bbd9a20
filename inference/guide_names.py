"""The guides that ``pg.svi`` builds by name, named here without importing either library:
the libraries' autoguides (by class name) and probgen's normalizing flows
(``flows.flow_guide``; NumPyro has two of them)."""

AUTOGUIDES = {
    "delta": "AutoDelta",
    "normal": "AutoNormal",
    "mvn": "AutoMultivariateNormal",
    "lowrank": "AutoLowRankMultivariateNormal",
    "laplace": "AutoLaplaceApproximation",
}
FLOWS = ("iaf", "realnvp", "nsf", "bnaf")
NUMPYRO_FLOWS = ("iaf", "bnaf")
