"""Seconds per 1000 test images of the importance-weighted bound with k = 5000 samples.

The model is Burda et al.'s (2016) MNIST architecture as chapter 7 uses it: two deterministic
layers of 200 tanh units on each side, a 50-D latent, Bernoulli likelihood (untrained weights:
the time does not depend on them). `vaelib.importance_weighted_bound` processes `batch_size`
images at a time and `chunk_size` of the k samples at a time, so memory holds
`batch_size * chunk_size` decoded images (about 157 MB for 100 x 500).

Run from the repository root, once per backend:

    KERAS_BACKEND=jax .venv/bin/python benchmarks/iw_bound.py
    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/iw_bound.py
    .venv/bin/python benchmarks/iw_bound.py --backend both --num-images 200

The table gives seconds per 1000 images for each (batch_size, chunk_size), and the ratio to the
default (100, 500) in the same run; the last column extrapolates to the 10,000 test images.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

SETTINGS = ((100, 500), (50, 1000), (200, 250))  # (batch_size, chunk_size); the first: default


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax", "both"), default=None)
    parser.add_argument("--num-images", type=int, default=200)
    parser.add_argument("--k", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.backend == "both":
        for backend in ("jax", "tensorflow"):
            command = [sys.executable, __file__, "--backend", backend]
            command += ["--num-images", str(args.num_images), "--k", str(args.k)]
            subprocess.run(command, check=True)
        return 0
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    import vaelib  # after choosing the backend

    (_, _), (x_test, _) = vaelib.load_mnist(num_test=args.num_images, binarize="stochastic")
    vaelib.set_seed(0)
    model = vaelib.build_mlp_vae(hidden_units=[200, 200], activation="tanh", latent_dim=50)
    import keras

    backend, cpus = keras.backend.backend(), os.cpu_count()
    print(f"backend {backend}, k = {args.k}, {len(x_test)} images, {cpus} CPUs")
    print("batch  chunk   s / 1000 images   ratio to default   10,000 images (min)")
    baseline = None
    for batch_size, chunk_size in SETTINGS:
        vaelib.importance_weighted_bound(model, x_test[:batch_size], k=chunk_size, seed=0)  # warm
        start = time.perf_counter()
        bound = vaelib.importance_weighted_bound(
            model, x_test, k=args.k, batch_size=batch_size, chunk_size=chunk_size, seed=0
        )
        per_1000 = (time.perf_counter() - start) * 1000 / len(x_test)
        baseline = baseline or per_1000
        print(
            f"{batch_size:5d}  {chunk_size:5d}   {per_1000:15.1f}   {per_1000 / baseline:16.2f}"
            f"   {per_1000 * 10 / 60:19.1f}   (mean bound {bound.mean():.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
