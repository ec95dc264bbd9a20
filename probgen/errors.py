"""The exception types that probgen raises for problems a user can fix."""


class ProbgenError(Exception):
    """Base class of every error that probgen raises on purpose."""


class ArgumentError(ProbgenError, ValueError):
    """An argument is out of range or unknown (a sampler name, ``chains=0``, ...)."""


class DataError(ProbgenError, ValueError):
    """Observed data are unusable: NaN or inf values, wrong shapes."""


class ModelError(ProbgenError, ValueError):
    """The program cannot be handled as asked: a discrete latent site under NUTS, ..."""


class TrainingError(ProbgenError, RuntimeError):
    """Training stopped: the loss became NaN or infinite."""


def invalid_parameter(exc: ValueError) -> bool:
    """Whether ``exc`` is torch's argument validation refusing a distribution's parameter
    ("Expected parameter … to satisfy the constraint …, but found invalid values"): a
    parameter that training drove to NaN."""
    return "invalid values" in str(exc)
