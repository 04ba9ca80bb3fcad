# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""GPU benchmark: skgd on a torch CUDA array vs numpy on the CPU.

Fits the same ridge, lasso, huber and binary log-loss problems (float32, ``n x
p``, generated on the device and copied once to host memory for the numpy run) and
prints the median times and the speedup, with the coefficient agreement. Usage::

    python benchmarks/gpu_bench.py [--n 10000000] [--p 100] [--repeats 3] [--device D]

With ``--device cpu`` it runs torch on the CPU (to check the script without a GPU).
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import numpy as np
import sklearn

from skgd import GDClassifier, GDRegressor


def _median_time(fn, repeats, sync):
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv=None):
    """Run the benchmark and print a table; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: nothing to benchmark (use --device cpu to check)")
        return 1
    dev = torch.device(args.device)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    gen = torch.Generator(device=dev).manual_seed(0)
    X = torch.randn(args.n, args.p, generator=gen, device=dev, dtype=torch.float32)
    w = torch.randn(args.p, generator=gen, device=dev, dtype=torch.float32)
    y = X @ w + torch.randn(args.n, generator=gen, device=dev, dtype=torch.float32)
    Xn, yn = X.cpu().numpy(), y.cpu().numpy()
    print(
        f"X: {args.n} x {args.p} float32 ({Xn.nbytes / 1e9:.1f} GB); device "
        f"{torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}"
    )
    print(
        f"{'problem':<10} {'numpy cpu':>10} {'torch ' + dev.type:>12} "
        f"{'speedup':>8} {'max coef diff':>14}"
    )
    labels = (y > 0).to(torch.int64)
    targets = {GDRegressor: (y, yn), GDClassifier: (labels, labels.cpu().numpy())}
    # The squared loss runs on the Gram matrix (one pass); huber and the log loss
    # make one pass per iteration (the fused full-batch iteration).
    for name, Est, kw in [
        ("ridge", GDRegressor, {"penalty": "l2", "alpha": 1e-3}),
        ("lasso", GDRegressor, {"penalty": "l1", "alpha": 1e-2}),
        ("huber", GDRegressor, {"loss": "huber", "penalty": "l2", "alpha": 1e-3}),
        ("log_loss", GDClassifier, {"penalty": "l2", "alpha": 1e-3}),
    ]:
        t, tn = targets[Est]
        t_np, est_np = _median_time(
            lambda kw=kw, Est=Est, tn=tn: Est(tol=1e-6, **kw).fit(Xn, tn),
            args.repeats,
            lambda: None,
        )
        with sklearn.config_context(array_api_dispatch=True):
            t_gpu, est_gpu = _median_time(
                lambda kw=kw, Est=Est, t=t: Est(tol=1e-6, **kw).fit(X, t),
                args.repeats,
                sync,
            )
        diff = float(np.max(np.abs(est_gpu.coef_.cpu().numpy() - est_np.coef_)))
        print(
            f"{name:<10} {t_np:9.3f}s {t_gpu:11.3f}s {t_np / t_gpu:7.1f}x {diff:14.2e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
