# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Shared measuring tools: paired timing, objective values, memory, BLAS info.

Nothing here knows about a particular case; the cases live in ``_cases.py``.
"""

import gc
import statistics
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning


def blas_info():
    """Return a short description of the BLAS libraries in use (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "threadpoolctl not installed"
    import scipy.linalg  # noqa: F401  (load scipy's BLAS too, if separate)

    parts = []
    for info in threadpool_info():
        parts.append(
            f"{info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('num_threads')} threads, "
            f"{info.get('prefix')})"
        )
    return "; ".join(sorted(set(parts)))


def fit_quiet(est, X, y):
    """Fit ``est`` ignoring ConvergenceWarning; return it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def timed(fn):
    """Return (seconds, result) of one call of ``fn``, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def alternate(fns, repeats):
    """Time each callable ``repeats`` times, interleaved, rotating the order.

    Parameters
    ----------
    fns : dict of str to callable
        The contenders; each call does one complete fit.
    repeats : int
        Rounds; in each round every contender runs once.

    Returns
    -------
    times : dict of str to list of float
        Seconds per round, per contender.
    """
    names = list(fns)
    times = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(timed(fns[name])[0])
    return times


def paired_times(fns, times, a, b, *, seconds=0.5, most=400):
    """Return ``times`` of the pair ``(a, b)``, timed again in more rounds if short.

    A round of fits of a few milliseconds is at the mercy of the scheduler: one
    interrupted fit moves the median of three or five rounds. Where the pair's
    rounds fill less than ``seconds`` (their number times the median round),
    the pair is timed again, alternating, in as many rounds as fill about
    ``seconds`` (at most ``most``); otherwise ``times`` is returned as it is.

    Parameters
    ----------
    fns : dict of str to callable
        The contenders, as given to :func:`alternate`.
    times : dict of str to list of float
        What :func:`alternate` returned for them.
    a, b : str
        The pair.
    seconds : float, default=0.5
        The time the rounds of a short pair should fill.
    most : int, default=400
        The largest number of rounds.

    Returns
    -------
    times : dict of str to list of float
        Seconds per round of ``a`` and ``b``.
    """
    repeats = len(times[a])
    rounds = zip(times[a], times[b], strict=True)
    per_round = statistics.median(ta + tb for ta, tb in rounds)
    if per_round * repeats >= seconds:
        return times
    rounds = min(most, max(repeats, int(seconds / max(per_round, 1e-6))))
    return alternate({a: fns[a], b: fns[b]}, rounds)


def paired_ratio(times, a, b):
    """Return the median over rounds of ``times[a] / times[b]`` (same round)."""
    return statistics.median(ta / tb for ta, tb in zip(times[a], times[b], strict=True))


def paired_ratio_to_fastest(times, a, others):
    """Return the median over rounds of ``times[a]`` over the least of ``others``.

    Each round compares ``a`` with whichever of ``others`` was fastest in that
    round, so a requirement such as "as fast as the faster of two solvers" reads
    from one number.
    """
    rounds = zip(times[a], *(times[k] for k in others), strict=True)
    return statistics.median(ta / min(tb) for ta, *tb in rounds)


def median(values):
    """Return the median of ``values``."""
    return statistics.median(values)


def primal(X, y, coef, intercept, alpha, l1_ratio):
    """Return the contract's objective, evaluated in float64.

    ``1/(2n) ||y - X w - b||^2 + alpha (l1_ratio ||w||_1 + (1-l1_ratio)/2 ||w||^2)``.
    """
    coef = np.asarray(coef, dtype=np.float64).ravel()
    if sp.issparse(X):
        pred = np.asarray(X.astype(np.float64) @ coef)
    else:
        pred = np.asarray(X, dtype=np.float64) @ coef
    r = np.asarray(y, dtype=np.float64) - pred - float(np.ravel(intercept)[0])
    return 0.5 * float(r @ r) / r.shape[0] + alpha * (
        l1_ratio * float(np.abs(coef).sum())
        + 0.5 * (1.0 - l1_ratio) * float(coef @ coef)
    )


def log_loss_objective(X, y, coef, intercept, alpha, classes):
    """Return ``1/n sum_i logloss_i + alpha/2 ||W||^2``, evaluated in float64.

    Binary (one row of ``coef``): the logistic loss of the margin, ``classes[1]``
    positive. More rows: the multinomial cross-entropy, ``log sum_k exp(f_k) -
    f_{y_i}``, whatever common shift the intercepts carry.
    """
    from scipy.special import logsumexp

    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if sp.issparse(X):
        raw = np.asarray(X.astype(np.float64) @ coef.T)
    else:
        raw = np.asarray(X, dtype=np.float64) @ coef.T
    raw += np.asarray(intercept, dtype=np.float64).ravel()
    if coef.shape[0] == 1:
        sign = np.where(np.asarray(y) == classes[1], 1.0, -1.0)
        loss = float(np.logaddexp(0.0, -sign * raw[:, 0]).mean())
    else:
        idx = np.searchsorted(classes, y)
        picked = raw[np.arange(raw.shape[0]), idx]
        loss = float((logsumexp(raw, axis=1) - picked).mean())
    return loss + 0.5 * alpha * float((coef * coef).sum())


def suboptimality(value, best):
    """Return ``(value - best) / best``, floored at 0 (the reference is a bound)."""
    return max(value - best, 0.0) / abs(best)


def coef_error(coef, ref):
    """Return ``||coef - ref|| / ||ref||`` in float64."""
    coef = np.asarray(coef, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    return float(np.linalg.norm(coef - ref) / max(np.linalg.norm(ref), 1e-300))


def peak_extra_memory(fn):
    """Return the peak bytes allocated (tracemalloc, numpy included) during ``fn()``."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def time_to_accuracy(make, X, y, value_of, best, target, tols):
    """Find the loosest ``tol`` whose fit reaches ``target`` suboptimality.

    Parameters
    ----------
    make : callable
        ``make(tol)`` returns an unfitted estimator.
    X, y : arrays
        Data.
    value_of : callable
        ``value_of(est)`` returns the objective of a fitted estimator.
    best : float
        Reference optimal value.
    target : float
        Relative suboptimality to reach.
    tols : sequence of float
        Candidate tolerances, loosest first.

    Returns
    -------
    tol : float
        The chosen tolerance (the tightest candidate if none reaches ``target``).
    subopt : float
        The suboptimality that tolerance gave.
    """
    subopt = np.inf
    for tol in tols:
        est = fit_quiet(make(tol), X, y)
        subopt = suboptimality(value_of(est), best)
        if subopt <= target:
            return tol, subopt
    return tols[-1], subopt


def one_pass_time(X, repeats=7):
    """Return the median seconds of one ``X.T @ v`` (the physical floor of a pass)."""
    v = np.ones(X.shape[0], dtype=X.dtype)
    out = []
    for _ in range(repeats):
        out.append(timed(lambda: X.T @ v)[0])
    return median(out)
