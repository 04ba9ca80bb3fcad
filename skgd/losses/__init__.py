# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Per-sample regression losses, and the factory that maps names to them."""

from skgd.losses._base import Loss
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
}


def get_loss(loss, epsilon=0.1):
    """Return the :class:`Loss` instance for a name or an instance.

    Parameters
    ----------
    loss : str or Loss
        One of ``"squared_error"``, ``"huber"``, ``"epsilon_insensitive"``,
        ``"squared_epsilon_insensitive"``, or a :class:`Loss` instance (returned as is).
    epsilon : float, default=0.1
        The epsilon of the losses that have one (ignored for ``"squared_error"``).

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
    return cls(epsilon=epsilon)


__all__ = [
    "LOSSES",
    "EpsilonInsensitive",
    "Huber",
    "Loss",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "get_loss",
]
