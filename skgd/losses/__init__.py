# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Per-sample losses, and the factories that map names to them."""

from skgd.losses._base import Loss
from skgd.losses._classification import (
    Hinge,
    LogLoss,
    ModifiedHuber,
    MultinomialLogLoss,
    SmoothedHinge,
)
from skgd.losses._glm import GammaDeviance, PoissonDeviance, TweedieDeviance
from skgd.losses._regression import (
    EpsilonInsensitive,
    Huber,
    SquaredEpsilonInsensitive,
    SquaredError,
)

LOSSES = {
    "squared_error": SquaredError,
    "huber": Huber,
    "epsilon_insensitive": EpsilonInsensitive,
    "squared_epsilon_insensitive": SquaredEpsilonInsensitive,
    "poisson": PoissonDeviance,
    "gamma": GammaDeviance,
    "tweedie": TweedieDeviance,
}


# Binary classification losses (labels -1 and +1), by SGDClassifier's names.
CLASSIFIER_LOSSES = {
    "log_loss": LogLoss,
    "hinge": Hinge,
    "modified_huber": ModifiedHuber,
}


def get_loss(loss, epsilon=0.1, power=1.5):
    """Return the :class:`Loss` instance for a name or an instance.

    Parameters
    ----------
    loss : str or Loss
        One of ``"squared_error"``, ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, ``"poisson"``, ``"gamma"``,
        ``"tweedie"``, or a :class:`Loss` instance (returned as is).
    epsilon : float, default=0.1
        The epsilon of the losses that have one (ignored for the others).
    power : float, default=1.5
        The power of ``"tweedie"`` (ignored for the others); power 1 gives the
        Poisson loss and power 2 the Gamma loss, with their duality gaps.

    Returns
    -------
    loss : Loss
        The loss object.

    Examples
    --------
    >>> from skgd.losses import get_loss
    >>> get_loss("huber", epsilon=1.35)
    Huber(epsilon=1.35)
    """
    if isinstance(loss, Loss):
        return loss
    cls = LOSSES[loss]
    if cls is TweedieDeviance:
        special = {1: PoissonDeviance, 2: GammaDeviance}
        return special[power]() if power in special else cls(power=float(power))
    if cls in (SquaredError, PoissonDeviance, GammaDeviance):
        return cls()
    return cls(epsilon=epsilon)


__all__ = [
    "CLASSIFIER_LOSSES",
    "LOSSES",
    "EpsilonInsensitive",
    "GammaDeviance",
    "Hinge",
    "Huber",
    "LogLoss",
    "Loss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "PoissonDeviance",
    "SmoothedHinge",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "TweedieDeviance",
    "get_loss",
]
