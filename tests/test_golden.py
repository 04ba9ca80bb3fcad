# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Results pinned to ``tests/golden/golden.json``: refactors of the engine must
reproduce every fitted coefficient, intercept and loss curve to 1e-12, and every
iteration count exactly. Regenerate the file only for an intended change of results
(``python tests/golden/configs.py``), in its own commit."""

import json

import numpy as np
import pytest

pytest.importorskip("distributed")

import distributed
from golden.configs import CONFIGS, GOLDEN, config_id, fit_config

_EXPECTED = json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def client():
    """A 2-worker in-process LocalCluster for the Dask configurations."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_every_configuration_is_pinned():
    assert sorted(config_id(c) for c in CONFIGS) == sorted(_EXPECTED)


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_golden(config, request):
    if config["input"] == "dask":
        request.getfixturevalue("client")
    got = fit_config(config)
    expected = _EXPECTED[config_id(config)]
    assert got.keys() == expected.keys()
    for key, want in expected.items():
        if key == "n_iter":
            assert got[key] == want
            continue
        want = np.asarray(want)
        have = np.asarray(got[key])
        assert have.shape == want.shape, key
        scale = max(np.abs(want).max(initial=0.0), 1e-300)
        np.testing.assert_allclose(
            have, want, rtol=1e-12, atol=1e-12 * scale, err_msg=key
        )
