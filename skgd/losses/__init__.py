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
from skgd.losses._margin import Perceptron, SquaredHinge
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
    "poisson": PoissonDeviance,
    "gamma": GammaDeviance,
    "tweedie": TweedieDeviance,
    "quantile": Pinball,
}


# Binary classification losses (labels -1 and +1), by SGDClassifier's names: its
# margin losses, and its regression losses fitted to the labels -1 and +1.
CLASSIFIER_LOSSES = {
    "log_loss": LogLoss,
    "hinge": Hinge,
    "modified_huber": ModifiedHuber,
    "squared_hinge": SquaredHinge,
    "perceptron": Perceptron,
    **LOSSES,
}


def get_loss(loss, epsilon=0.1, power=1.5, quantile=0.5):
    """Return the :class:`Loss` instance for a name or an instance.

    Parameters
    ----------
    loss : str or Loss
        One of ``"squared_error"``, ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, ``"poisson"``, ``"gamma"``,
        ``"tweedie"``, ``"quantile"``, or a :class:`Loss` instance (returned as
        is).
    epsilon : float, default=0.1
        The epsilon of the losses that have one (ignored for the others).
    power : float, default=1.5
        The power of ``"tweedie"`` (ignored for the others); power 1 gives the
        Poisson loss and power 2 the Gamma loss, with their duality gaps.
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
    if cls is TweedieDeviance:
        special = {1: PoissonDeviance, 2: GammaDeviance}
        return special[power]() if power in special else cls(power=float(power))
    if cls is Pinball:
        return cls(quantile=quantile)
    return _build(cls, epsilon)


def get_classifier_loss(loss, epsilon=0.1):
    """Return the binary classification loss of a name in ``CLASSIFIER_LOSSES``.

    Parameters
    ----------
    loss : str
        SGDClassifier's name of the loss: a margin loss (``"log_loss"``,
        ``"hinge"``, ``"modified_huber"``, ``"squared_hinge"``, ``"perceptron"``)
        or a regression loss, fitted to the labels -1 and +1.
    epsilon : float, default=0.1
        The epsilon of the losses that have one.

    Returns
    -------
    loss : Loss
        The loss object, of labels in {-1, +1}.

    Examples
    --------
    >>> from skgd.losses import get_classifier_loss
    >>> get_classifier_loss("squared_hinge")
    SquaredHinge()
    >>> get_classifier_loss("huber", epsilon=0.5)
    Huber(epsilon=0.5)
    """
    return _build(CLASSIFIER_LOSSES[loss], epsilon)


def _build(cls, epsilon):
    """Return ``cls``'s instance, with ``epsilon`` where the loss has one."""
    if "epsilon" in getattr(cls, "__dataclass_fields__", {}):
        return cls(epsilon=epsilon)
    return cls()


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
    "Perceptron",
    "Pinball",
    "PoissonDeviance",
    "SmoothedHinge",
    "SmoothedPinball",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "SquaredHinge",
    "TweedieDeviance",
    "get_classifier_loss",
    "get_loss",
]
