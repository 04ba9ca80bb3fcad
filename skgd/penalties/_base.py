# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Penalty contract: a convex function of the coefficients with a cheap prox.

A penalty acts on ``w`` only; the intercept is never penalized. The conjugate and the
dual scaling let the full-batch solver certify its solution with a duality gap.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Penalty:
    """Base class of penalties ``h(w)``.

    Subclasses implement every method below with Array API standard functions.

    Attributes
    ----------
    is_separable : bool
        Whether ``h(w) = sum_j h_j(w_j)``, so that the prox is coordinate-wise and
        accepts a per-coordinate step.
    """

    is_separable = True

    def value(self, w):
        """Return ``h(w)`` as a 0-d array.

        Parameters
        ----------
        w : array of shape (n_features,)
            Coefficients.

        Returns
        -------
        value : 0-d array
            The penalty.
        """
        raise NotImplementedError

    def prox(self, v, step):
        """Return ``argmin_w h(w) + sum_j (w_j - v_j)**2 / (2 step_j)``.

        Parameters
        ----------
        v : array of shape (n_features,)
            The point to map.
        step : float or array of shape (n_features,)
            The step size, scalar or per coordinate (a diagonal metric).

        Returns
        -------
        w : array of shape (n_features,)
            The proximal point.
        """
        raise NotImplementedError

    def conjugate(self, v):
        """Return the convex conjugate ``h*(v) = sup_w v.w - h(w)`` (may be ``inf``).

        Parameters
        ----------
        v : array of shape (n_features,)
            The dual point.

        Returns
        -------
        value : float
            The conjugate.
        """
        raise NotImplementedError

    def dual_scale(self, v):
        """Return the factor ``k`` in ``(0, 1]`` that makes ``h*(k v)`` finite.

        Parameters
        ----------
        v : array of shape (n_features,)
            The dual point, ``X.T @ theta``.

        Returns
        -------
        scale : float or None
            The factor, or None when no scaling gives a useful dual point (no penalty:
            the dual is then feasible only at the exact optimum).
        """
        raise NotImplementedError

    def fenchel_young(self, w, v):
        """Return the Fenchel-Young gap ``h(w) + h*(v) - w.v``, non-negative.

        The duality gap of the full-batch solver is made of this term, so penalties
        should compute it without cancellation (coordinate by coordinate).

        Parameters
        ----------
        w : array of shape (n_features,)
            Primal point.
        v : array of shape (n_features,)
            Dual point.

        Returns
        -------
        gap : float
            The gap, 0 exactly when ``v`` is a subgradient of ``h`` at ``w``.
        """
        return max(float(self.value(w)) + self.conjugate(v) - float(w @ v), 0.0)
