#!/usr/bin/env bash
# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
#
# On a machine with a CUDA GPU and torch installed (this installs nothing): run the
# Array API tests, which then include torch on CUDA, and the GPU benchmark
# (1e7 x 100 float32 by default), printing the speedup over numpy on the CPU.
# Usage: bash benchmarks/gpu.sh [benchmark options, e.g. --n 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
export SCIPY_ARRAY_API=1
PYTHONPATH=. python -m pytest -q -p no:cacheprovider tests/test_array_api.py \
    tests/test_common.py -k "array_api"
PYTHONPATH=. python benchmarks/gpu_bench.py "$@"
