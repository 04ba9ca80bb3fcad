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
from skgd.losses._quantile import Pinball, SmoothedPinball
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
    "quantile": Pinball,
}


# Binary classification losses (labels -1 and +1), by SGDClassifier's names.
CLASSIFIER_LOSSES = {
    "log_loss": LogLoss,
    "hinge": Hinge,
    "modified_huber": ModifiedHuber,
}


def get_loss(loss, epsilon=0.1, quantile=0.5):
    """Return the :class:`Loss` instance for a name or an instance.

    Parameters
    ----------
    loss : str or Loss
        One of ``"squared_error"``, ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, ``"quantile"``, or a :class:`Loss`
        instance (returned as is).
    epsilon : float, default=0.1
        The epsilon of the losses that have one (ignored by the others).
    quantile : float, default=0.5
        The quantile of the ``"quantile"`` loss (ignored by the others).

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
    if cls is SquaredError:
        return cls()
    if cls is Pinball:
        return cls(quantile=quantile)
    return cls(epsilon=epsilon)


__all__ = [
    "CLASSIFIER_LOSSES",
    "LOSSES",
    "EpsilonInsensitive",
    "Hinge",
    "Huber",
    "LogLoss",
    "Loss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "Pinball",
    "SmoothedHinge",
    "SmoothedPinball",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "get_loss",
]
