# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Penalties on the coefficients, and the factory that maps names to them."""

from skgd.penalties._base import Penalty
from skgd.penalties._separable import L1, L1L2, L2, NoPenalty


def get_penalty(penalty, alpha=1e-4, l1_ratio=0.15):
    """Return the :class:`Penalty` instance for a name, None, or an instance.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, Penalty or None
        The name (as in SGDRegressor), None for no penalty, or an instance (returned
        as is).
    alpha : float, default=1e-4
        The overall strength.
    l1_ratio : float, default=0.15
        The L1 share, used by ``"elasticnet"`` only.

    Returns
    -------
    penalty : Penalty
        The penalty object.

    Examples
    --------
    >>> from skgd.penalties import get_penalty
    >>> get_penalty("elasticnet", alpha=0.1, l1_ratio=0.5)
    L1L2(alpha=0.1, l1_ratio=0.5)
    """
    if isinstance(penalty, Penalty):
        return penalty
    if penalty is None:
        return NoPenalty()
    if penalty == "l1":
        return L1(alpha=alpha)
    if penalty == "l2":
        return L2(alpha=alpha)
    if penalty == "elasticnet":
        return L1L2(alpha=alpha, l1_ratio=l1_ratio)
    raise ValueError(f"Unknown penalty {penalty!r}.")


__all__ = ["L1", "L1L2", "L2", "NoPenalty", "Penalty", "get_penalty"]
