# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Column statistics of a design matrix under sample weights, computed once.

:class:`ColumnStats` holds what every objective over the same X and weights shares:
the normalised weights, the column means of the implicit centering and the model's
flags (centered, free offset). The products that cost a pass over X and are needed
only by some solvers (the columns' second moments with the metrics built on them,
the Gram matrix, per-target products) are computed on first use into its
:class:`SharedProducts`, which every copy made by :func:`dataclasses.replace` over the
same columns keeps. :func:`column_moments` derives the diagonal metrics and the
curvature bounds of the full-batch solver from the second moments, and decides which
columns are constant (float32 columns its bound flags are recomputed in float64).
"""

import dataclasses
import functools
from typing import Any

from skgd._backend._namespace import array_namespace


@dataclasses.dataclass(frozen=True, eq=False)
class ColumnMoments:
    """The columns' centered second moments and what the full-batch solver reads.

    ``sq`` and ``active`` are computed with the moments, the rest on first use:
    the proximal Newton solver reads none of it, and on a small X its reductions
    were a fixed cost of each fit.

    Attributes
    ----------
    sq : array of shape (n_features,)
        Weighted centered second moment of each column.
    active : array of bool of shape (n_features,)
        The non-constant columns (the others keep ``w_j = 0``).
    u : array of shape (n_samples,)
        The normalised sample weights the moments are taken under.
    fit_intercept : bool
        Whether the model has an intercept.
    backend : Backend
        Operations over X (its ``to_float`` reads the count of weighted rows).
    metrics : dict of str to array
        ``"jacobi"`` (``sq``, 1 on inactive columns) and ``"identity"`` (ones).
    diag_max : dict of str to float
        Largest diagonal entry of the data Hessian in each metric: a lower bound
        on its largest eigenvalue, hence a safe first curvature constant.
    trace : dict of str to float
        The trace of the same Hessian: an upper bound on its largest eigenvalue.
    underdetermined : bool
        Whether there are fewer weighted rows (less one for the intercept) than
        active columns.
    """

    sq: Any
    active: Any
    u: Any
    fit_intercept: bool
    backend: Any

    @functools.cached_property
    def _n_active(self):
        """The number of active columns."""
        cxp = array_namespace(self.sq)
        return int(cxp.sum(cxp.astype(self.active, cxp.int64)))

    @functools.cached_property
    def _on_active(self):
        """``sq`` on the active columns, 0 elsewhere."""
        cxp = array_namespace(self.sq)
        return cxp.where(self.active, self.sq, cxp.zeros_like(self.sq))

    @functools.cached_property
    def metrics(self):
        """See the class's attributes."""
        cxp, sq = array_namespace(self.sq), self.sq
        return {
            "jacobi": cxp.where(self.active, sq, cxp.ones_like(sq)),
            "identity": cxp.ones_like(sq),
        }

    @functools.cached_property
    def diag_max(self):
        """See the class's attributes."""
        cxp, any_active = array_namespace(self.sq), self._n_active > 0
        return {
            "jacobi": 1.0 if any_active else 0.0,
            "identity": float(cxp.max(self._on_active)) if any_active else 0.0,
        }

    @functools.cached_property
    def trace(self):
        """See the class's attributes."""
        cxp = array_namespace(self.sq)
        return {
            "jacobi": float(self._n_active),
            "identity": float(cxp.sum(self._on_active)),
        }

    @functools.cached_property
    def underdetermined(self):
        """See the class's attributes."""
        u, xp = self.u, self.backend.xp
        positive = array_namespace(u).astype(u > 0, xp.int64)
        n_rows = int(self.backend.to_float(xp.sum(positive)))
        return n_rows - int(self.fit_intercept) < self._n_active


@dataclasses.dataclass(eq=False)
class SharedProducts:
    """Products over the columns computed on first use and shared by copies.

    Attributes
    ----------
    moments : ColumnMoments or None
        See :func:`column_moments`.
    gram : array of shape (n_features, n_features) or None
        The centered weighted Gram matrix (see :mod:`skgd._gram`).
    gram_targets : dict
        ``id(y) -> (y, q, yy)``: the Gram form's products with each target.
    gram_spectrum : tuple or None
        The Gram form's eigendecomposition for its unpenalized closed form (see
        :meth:`skgd._gram.GramObjective._spectrum`).
    sample_svd : tuple or None
        The sample form's SVD for its unpenalized closed form (see
        :mod:`skgd._lstsq`).
    sample_kernel : array of shape (n_samples, n_samples) or None
        The sample form's kernel ``A A.T`` for its ridge closed form on wide X
        (see :mod:`skgd._ridge`).
    anchor : tuple or None
        ``(y, key, X_c.T anchor, sum(anchor))`` of a classification loss's balance
        anchor (see :mod:`skgd._one_pass`).
    """

    moments: Any = None
    gram: Any = None
    gram_targets: dict = dataclasses.field(default_factory=dict)
    gram_spectrum: Any = None
    sample_svd: Any = None
    sample_kernel: Any = None
    anchor: Any = None


@dataclasses.dataclass(frozen=True, eq=False)
class ColumnStats:
    """Normalised weights and column statistics shared by objectives over one X.

    Frozen: a derived copy (other flags, a slice of the columns) is made with
    :func:`dataclasses.replace`; copies over the same columns share ``products``.

    Attributes
    ----------
    u : array of shape (n_samples,)
        Sample weights normalised to sum to one.
    x_mean : array of shape (n_features,)
        Weighted column means (zeros without intercept or without centering).
    centered : bool, default=True
        Whether the model is implicitly centered with ``x_mean``.
    free_offset : bool, default=False
        Whether the offset is a variable even for a quadratic loss (the stochastic
        solvers: a batch cannot use the closed form over all rows).
    uniform : float or None, default=None
        The common weight when the weights are equal (read by the fused batch
        step of the stochastic solvers), else None.
    sq : array of shape (n_features,) or None, default=None
        The columns' second moments when known in advance (a slice of another
        objective's), else computed on first use.
    products : SharedProducts
        The products computed on first use (see :class:`SharedProducts`).
    """

    u: Any
    x_mean: Any
    centered: bool = True
    free_offset: bool = False
    uniform: float | None = None
    sq: Any = None
    products: SharedProducts = dataclasses.field(
        default_factory=SharedProducts, repr=False
    )


def column_stats(backend, X, dtype, sample_weight, fit_intercept):
    """Return the normalised weights and column means (one pass over X).

    Parameters
    ----------
    backend, X, sample_weight, fit_intercept
        As for :class:`skgd._objective.LinearObjective` (the means are zeros
        without intercept).
    dtype : dtype
        The dtype of the vectors.

    Returns
    -------
    stats : ColumnStats
        The statistics.
    """
    cxp = backend.coef_xp
    n_samples, n_features = X.shape
    u = normalised_weights(backend, n_samples, dtype, sample_weight)
    zeros = cxp.zeros(n_features, dtype=dtype, device=backend.device)
    x_mean = backend.weighted_mean(X, u) if fit_intercept else zeros
    return ColumnStats(u=u, x_mean=x_mean)


def normalised_weights(backend, n_samples, dtype, sample_weight):
    """Return ``sample_weight / sum(sample_weight)``, or equal weights for None."""
    if sample_weight is None:
        return backend.full(n_samples, 1.0 / n_samples, dtype)
    return sample_weight / backend.xp.sum(sample_weight)


def column_moments(stats, backend, X, fit_intercept, dtype):
    """Return the :class:`ColumnMoments` of ``stats``, computing them on first use.

    The second moments are ``stats.sq`` when given, else the diagonal of the Gram
    matrix when it was built first (no pass), else one pass over X.

    Parameters
    ----------
    stats : ColumnStats
        The statistics (their products keep the result).
    backend : Backend
        Operations over X.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Design matrix.
    fit_intercept : bool
        Whether the model has an intercept (it decides which columns are constant).
    dtype : dtype
        The dtype of the vectors.

    Returns
    -------
    moments : ColumnMoments
        The moments, the constant-column mask and the metrics.
    """
    products = stats.products
    if products.moments is not None:
        return products.moments
    cxp = backend.coef_xp
    x_mean, u, sq = stats.x_mean, stats.u, stats.sq
    if sq is None and products.gram is not None:
        # The columns' centered second moments are G's diagonal: no pass.
        sq = cxp.linalg.diagonal(products.gram)
    if sq is None:
        sq = backend.weighted_centered_sq(X, u, x_mean)
    # The coefficients' namespace as skgd's array_namespace gives it: for numpy,
    # numpy's own finfo, astype, zeros_like and ones_like (not their wrappers).
    cxp = array_namespace(sq)
    if not bool(cxp.all(cxp.isfinite(sq))):
        also = " or pass X as float64" if dtype == cxp.float32 else ""
        raise ValueError(
            f"The squares of some feature values overflow {dtype}: X holds "
            "values too large to fit a model on. Scale the features (e.g. with "
            f"sklearn.preprocessing.StandardScaler){also}."
        )
    if fit_intercept:
        active = _non_constant(cxp, sq, x_mean, X.shape[0], cxp.finfo(dtype).eps)
        if dtype != cxp.float64 and not bool(cxp.all(active)):
            active, sq = _recheck_in_float64(backend, X, u, sq, active)
    else:
        active = sq > 0
    products.moments = ColumnMoments(
        sq=sq, active=active, u=u, fit_intercept=fit_intercept, backend=backend
    )
    return products.moments


def _non_constant(xp, sq, mean, n_samples, eps):
    """Return the columns whose spread is above the level of rounding.

    A column whose spread is at the level of rounding is constant: centering leaves
    only noise in it, which must neither move w nor set its metric. This is the test
    of sklearn.preprocessing's ``_is_constant_feature``, with the rounding unit
    ``eps`` of the dtype the moments were computed in.
    """
    return sq > n_samples * eps * sq + (n_samples * eps * mean) ** 2


def _recheck_in_float64(backend, X, u, sq, active):
    """Return ``(active, sq)`` with the columns flagged constant decided in float64.

    float32's bound flags a column of mean 2000 and spread 0.1 as constant at 1000
    rows (and mean 50, spread 1 at a few million), although its float32 values hold
    the spread: its moments, recomputed in float64 from those values, decide, under
    float64's bound as scikit-learn's test always uses. Only the flagged columns are
    gathered and recomputed (usually none, or truly constant ones): computing every
    statistic in float64 made float32 fits 2-3 times slower.
    """
    cxp = backend.coef_xp
    dtype = sq.dtype
    flagged = cxp.nonzero(~active)[0]
    if hasattr(backend, "take_columns"):
        cols = backend.take_columns(X, flagged)
    else:  # Dask: a lazy gather, computed with the moments below
        cols = X[:, flagged]
    xp = backend.xp
    # (The numpy namespace's astype also converts a scipy.sparse matrix.)
    cols, u64 = xp.astype(cols, xp.float64), xp.astype(u, xp.float64)
    # The float32 weights sum to one only to float32's precision: that much of a
    # constant column's mean would be left as a spread far above float64's bound.
    u64 = u64 / xp.sum(u64)
    mean = backend.weighted_mean(cols, u64)
    sq64 = backend.weighted_centered_sq(cols, u64, mean)
    keep = _non_constant(cxp, sq64, mean, X.shape[0], cxp.finfo(cxp.float64).eps)
    positions = cxp.arange(sq.shape[0], device=backend.device)
    for k in range(int(flagged.shape[0])):
        if not bool(keep[k]):
            continue
        value = cxp.astype(sq64[k], dtype)
        if not bool(value > 0):
            raise ValueError(
                f"The squares of some feature values underflow {dtype}: X holds "
                "values too small to fit a model on. Scale the features (e.g. "
                "with sklearn.preprocessing.StandardScaler) or pass X as float64."
            )
        here = positions == flagged[k]
        active = active | here
        sq = cxp.where(here, value, sq)
    return active, sq
