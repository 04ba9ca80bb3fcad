# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Penalties on the coefficients, and the factory that maps names to them."""

import dataclasses

from skgd.penalties._base import Penalty
from skgd.penalties._separable import L1, L1L2, L2, NoPenalty


def get_penalty(penalty, alpha=1e-4, l1_ratio=0.15, *, positive=False, weights=None):
    """Return the :class:`Penalty` instance for a name, None, or an instance.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, Penalty or None
        The name (as in SGDRegressor), None for no penalty, or an instance
        (returned as is, or for one of the elastic-net family with ``positive``
        and ``weights`` replaced when they are given).
    alpha : float, default=1e-4
        The overall strength.
    l1_ratio : float, default=0.15
        The L1 share, used by ``"elasticnet"`` only.
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0``.
    weights : array-like of shape (n_features,) or None, default=None
        Non-negative per-feature factors of ``alpha`` (0: unpenalized).

    Returns
    -------
    penalty : Penalty
        The penalty object.

    Examples
    --------
    >>> from skgd.penalties import get_penalty
    >>> get_penalty("elasticnet", alpha=0.1, l1_ratio=0.5)
    L1L2(alpha=0.1, l1_ratio=0.5)
    >>> get_penalty("l1", alpha=0.1, positive=True)
    L1(alpha=0.1, positive=True)
    """
    options = {"positive": bool(positive), "weights": weights}
    if isinstance(penalty, Penalty):
        if not positive and weights is None:
            return penalty
        if isinstance(penalty, (L1, L1L2, L2, NoPenalty)):
            return dataclasses.replace(penalty, **options)
        raise ValueError(
            f"positive and penalty_weights apply to the built-in penalties only; "
            f"{type(penalty).__name__} must implement the constraint or the weights "
            "itself: leave them at their defaults."
        )
    if penalty is None:
        return NoPenalty(**options)
    if penalty == "l1":
        return L1(alpha=alpha, **options)
    if penalty == "l2":
        return L2(alpha=alpha, **options)
    if penalty == "elasticnet":
        return L1L2(alpha=alpha, l1_ratio=l1_ratio, **options)
    raise ValueError(f"Unknown penalty {penalty!r}.")


__all__ = ["L1", "L1L2", "L2", "NoPenalty", "Penalty", "get_penalty"]
