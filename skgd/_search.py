# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What the cross-validated estimators share: their data checks and l1_ratio lists.

:class:`~skgd.GDRegressorCV` and :class:`~skgd.GDClassifierCV` take the same
inputs (in-memory dense or sparse X, sample weights), split them into folds each
side of which must carry weight, and search the same kind of ``l1_ratio`` list;
the checks live here once.
"""

import numpy as np

from skgd._sklearn_compat import _check_sample_weight, validate_data
from skgd._validation import refuse_out_of_core


def check_search_data(estimator, X, y, sample_weight, *, y_numeric):
    """Validate the data of a cross-validated fit.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator being fitted (its feature count and names are set).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data: in memory, dense or CSR/CSC (kept sparse), float32 or float64.
    y : array-like of shape (n_samples,)
        Targets or labels.
    sample_weight : array-like of shape (n_samples,) or None
        Non-negative weights.
    y_numeric : bool
        Whether ``y`` must be numeric (regression).

    Returns
    -------
    X, y, sample_weight
        The validated data (``sample_weight`` in X's dtype, or None).
    """
    refuse_out_of_core(X, type(estimator).__name__)
    X, y = validate_data(
        estimator,
        X,
        y,
        accept_sparse=("csr", "csc"),
        dtype=[np.float64, np.float32],
        y_numeric=y_numeric,
    )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
    return X, y, sample_weight


def check_fold_weights(folds, sample_weight):
    """Raise where a fold's training or validation rows carry no weight.

    Unshuffled folds over rows of zero weight otherwise failed far from the
    cause: numpy's "Weights sum to zero" in the validation score, or a training
    fit's weighted statistics read as an overflow of the features.

    Parameters
    ----------
    folds : list of (train, test) index arrays
        The splits of the cross-validation.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights (None: all 1, nothing to check).
    """
    if sample_weight is None:
        return
    for k, fold in enumerate(folds):
        for part, rows in zip(("training", "validation"), fold, strict=True):
            if not np.sum(sample_weight[rows]) > 0:
                raise ValueError(
                    f"The cross-validation's fold {k}'s {part} rows have zero total "
                    "sample weight: shuffle the splits (e.g. cv=KFold(5, "
                    "shuffle=True)), pass folds that hold weighted rows, or drop "
                    "the rows of zero weight."
                )


def check_l1_ratios(l1_ratio):
    """Return ``l1_ratio`` (a float or a list of them) as a 1-D array in ``[0, 1]``.

    Parameters
    ----------
    l1_ratio : float or array-like of float
        The share(s) of the L1 term.

    Returns
    -------
    l1_ratios : ndarray of shape (n_l1_ratios,)
        The values, in the given order.
    """
    l1_ratios = np.atleast_1d(np.asarray(l1_ratio, dtype=float))
    if l1_ratios.ndim != 1 or not np.all((l1_ratios >= 0) & (l1_ratios <= 1)):
        raise ValueError(f"l1_ratio must be in [0, 1]; got {l1_ratio!r}.")
    return l1_ratios
