# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Shared fixtures: seeds, dtypes, small regression problems (built lazily) and a
Dask LocalCluster."""

import os

import numpy as np
import pytest
from _data import make_problem
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler


def _seeds():
    spec = os.environ.get("SKGD_TEST_SEEDS", "42")
    if spec == "all":
        return list(range(100))
    if "-" in spec:
        lo, hi = spec.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(spec)]


@pytest.fixture(params=_seeds())
def seed(request):
    """Random seed (42; SKGD_TEST_SEEDS=0-9 or all widens it)."""
    return request.param


_DTYPES = [np.float64] + (
    [np.float32] if os.environ.get("SKGD_TEST_FLOAT32") == "1" else []
)


@pytest.fixture(params=_DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    """float64, plus float32 when SKGD_TEST_FLOAT32=1."""
    return request.param


@pytest.fixture(scope="session")
def regression_data():
    """A tall 60x12 problem and a wide 20x50 one, keyed by name."""
    return {"tall": make_problem(0, 60, 12), "wide": make_problem(1, 20, 50)}


@pytest.fixture(scope="session")
def diabetes():
    """Standardized load_diabetes."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def client():
    """A 2-worker LocalCluster (threads inside each worker process), per module."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


try:
    from hypothesis import settings

    # CI runs a bounded number of examples; the nightly job sets
    # HYPOTHESIS_PROFILE=nightly for a longer search.
    settings.register_profile("ci", max_examples=40, derandomize=True)
    settings.register_profile("nightly", max_examples=1000)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is in the test extra; other runs skip its tests
    pass
