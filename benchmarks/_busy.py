# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark case 22: a busy machine, the cores shared with two spinning processes.

The dense binary log-loss fit of case 13 (L2, AR(1) rho 0.8, 5,000 x 200) against
both of ``LogisticRegression``'s lbfgs and newton-cholesky, every contender on its
default BLAS threads, while two processes that the case starts and stops spin on
the cores: what other jobs on the machine cost each of them.
"""

import os

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks._cases import _row
from benchmarks._common import alternate, fit_quiet, median, paired_ratio
from benchmarks._data import classification_dense
from skgd import GDClassifier

N_BUSY = 2


def busy_machine(case, quick, repeats):
    """Time the fits alternately with ``N_BUSY`` spinning processes on the cores."""
    from benchmarks.__main__ import _busy

    n, p = 5_000, 200
    X, y = classification_dense(n, p, 2, rho=0.8, seed=13)
    alpha = 1e-4
    C = 1.0 / (alpha * n)
    ests = {
        "skgd": GDClassifier(alpha=alpha, tol=1e-6),
        "LogisticRegression(lbfgs)": LogisticRegression(C=C, tol=1e-6, max_iter=10_000),
        "LogisticRegression(newton-cholesky)": LogisticRegression(
            C=C, solver="newton-cholesky", tol=1e-6
        ),
    }
    fns = {k: (lambda est=est: fit_quiet(est, X, y)) for k, est in ests.items()}
    for fn in fns.values():  # warm up, untimed
        fn()
    with _busy(N_BUSY):
        times = alternate(fns, repeats)
        load = os.getloadavg()[0]
    size = f"{n}x{p}, rho 0.8, 2 classes, {N_BUSY} busy processes"
    rows = []
    for k in fns:
        if k == "skgd":
            continue
        ratio = paired_ratio(times, "skgd", k)
        rows.append(
            _row(
                case,
                k,
                size,
                ratio,
                "<= 1.0x on busy cores",
                ratio <= 1.0,
                skgd_median_s=median(times["skgd"]),
                other_median_s=median(times[k]),
                skgd_n_iter=int(np.max(ests["skgd"].n_iter_)),
                other_n_iter=int(np.max(ests[k].n_iter_)),
                load_average=load,
            )
        )
    return rows


BUSY_CASES = {22: lambda quick, repeats: busy_machine(22, quick, repeats)}
