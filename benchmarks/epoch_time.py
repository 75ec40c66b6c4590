"""Seconds per training epoch: vaelib's VAE against a minimal hand-written Keras 3 VAE.

Both models are the MNIST MLP VAE of the book (784 -> 512 ReLU -> 2-D latent -> 512 ReLU -> 784
logits, Bernoulli likelihood summed over pixels, KL summed over latent dimensions, batch 128,
Adam 1e-3), trained in the same process on the same data. After a warm-up epoch each (which
includes tracing and compilation), the two models train one epoch at a time, alternating (in
ABBA order, so slow drift of the machine hits both alike), and the script reports the seconds
per epoch of each and their ratio (target: vaelib within 5% of the minimal model).

For every epoch it measures the wall-clock time of the epoch (from `on_epoch_begin` to
`on_epoch_end` of a callback), the CPU time the process used in it, and the whole
`fit(..., epochs=1)` call, which adds the per-call set-up (data adapter, callbacks, and for vaelib
the check of the data's shape and range). It also counts the work of one compiled training step
(XLA flops on JAX, graph operations on TensorFlow), which does not depend on the machine's load.

Usage:
    python benchmarks/epoch_time.py                      # backend from KERAS_BACKEND
    python benchmarks/epoch_time.py --backend both       # tensorflow, then jax (subprocesses)
    python benchmarks/epoch_time.py --num-train 2000 --repeats 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax")
# Table columns: (title, measurement, statistic over the timed epochs). "epoch" is wall-clock
# seconds per epoch, "cpu" the CPU seconds this process used in it (all threads), "fit" the whole
# fit(..., epochs=1) call. On a shared machine the minimum and the CPU time are the steadier ones.
COLUMNS = (
    ("epoch s", "epoch", statistics.median),
    ("best epoch s", "epoch", min),
    ("epoch cpu s", "cpu", statistics.median),
    ("fit() call s", "fit", statistics.median),
)
MEASURES = ("epoch", "cpu", "fit")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time one training epoch of vaelib's MLP VAE and of a minimal Keras 3 VAE."
    )
    parser.add_argument(
        "--backend",
        choices=(*BACKENDS, "both"),
        default=None,
        help="Keras backend (default: KERAS_BACKEND); 'both' runs this script once per backend, "
        "each in a subprocess",
    )
    parser.add_argument(
        "--num-train", type=int, default=None, help="training images (default: all 60000)"
    )
    parser.add_argument("--batch-size", type=int, default=128, help="default: 128")
    parser.add_argument("--hidden-units", type=int, default=512, help="default: 512")
    parser.add_argument("--latent-dim", type=int, default=2, help="default: 2")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs per model first")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("batch_size", "hidden_units", "latent_dim", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.num_train is not None and args.num_train < 1:
        parser.error("--num-train must be >= 1")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return args


def _forwarded(args: argparse.Namespace) -> list[str]:
    """The command-line flags of `args`, without --backend, for a subprocess."""
    flags = []
    for name, value in vars(args).items():
        if name != "backend" and value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return flags


def _in_subprocesses(args: argparse.Namespace) -> int:
    status = 0
    for backend in BACKENDS:
        env = dict(os.environ, KERAS_BACKEND=backend)
        command = [sys.executable, os.path.abspath(__file__), *_forwarded(args)]
        status = max(status, subprocess.run(command, env=env, check=False).returncode)
        sys.stdout.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend == "both":
        return _in_subprocesses(args)
    if args.backend is not None:
        os.environ["KERAS_BACKEND"] = args.backend  # Keras is imported only below, in run()
    return run(args)


def run(args: argparse.Namespace) -> int:
    import keras

    from vaelib.data import load_mnist
    from vaelib.networks import build_mlp_vae

    minimal_vae = _minimal_vae_class()
    (x_train, _), _ = load_mnist(num_train=args.num_train)
    keras.utils.set_random_seed(args.seed)
    models = {
        "minimal": minimal_vae(args.hidden_units, args.latent_dim, seed=args.seed),
        "vaelib": build_mlp_vae(
            hidden_units=args.hidden_units, latent_dim=args.latent_dim, seed=args.seed
        ),
    }
    for model in models.values():
        model.compile(optimizer=keras.optimizers.Adam(1e-3))

    marks = {}  # clock readings at the start of the current epoch
    times = {name: {measure: [] for measure in MEASURES} for name in models}

    def epoch_begin(epoch, logs):
        marks["wall"], marks["cpu"] = time.perf_counter(), time.process_time()

    def epoch_end(epoch, logs):
        marks["epoch"] = time.perf_counter() - marks["wall"]
        marks["cpu"] = time.process_time() - marks["cpu"]

    timer = keras.callbacks.LambdaCallback(on_epoch_begin=epoch_begin, on_epoch_end=epoch_end)
    last_loss = {}

    def one_fit(name: str, epochs: int, record: bool) -> None:
        start = time.perf_counter()
        history = models[name].fit(
            x_train, epochs=epochs, batch_size=args.batch_size, verbose=0, callbacks=[timer]
        )
        marks["fit"] = time.perf_counter() - start
        last_loss[name] = history.history["total_loss"][-1]
        if record:
            for measure in MEASURES:
                times[name][measure].append(marks[measure])

    if args.warmup:
        for name in models:
            one_fit(name, args.warmup, record=False)
    work = {name: _step_work(model, x_train[: args.batch_size]) for name, model in models.items()}
    for repeat in range(args.repeats):
        order = list(models) if repeat % 2 == 0 else list(models)[::-1]
        for name in order:
            one_fit(name, 1, record=True)

    _report(args, keras.backend.backend(), len(x_train), times, last_loss, work)
    return 0


def _report(args, backend, num_train, times, last_loss, work) -> None:
    import keras

    steps = -(-num_train // args.batch_size)
    print(
        f"\nbackend {backend}, keras {keras.__version__}, {num_train} images, "
        f"batch {args.batch_size} ({steps} steps), {os.cpu_count()} CPUs, "
        f"{args.repeats} timed epochs per model after {args.warmup} warm-up"
    )
    header = f"{'model':<9}" + "".join(f"{title:>14}" for title, _, _ in COLUMNS)
    header += f"{'last loss':>11}"
    print(header)
    print("-" * len(header))
    values = {}
    for name in ("minimal", "vaelib"):
        values[name] = [stat(times[name][measure]) for _, measure, stat in COLUMNS]
        cells = "".join(f"{value:14.2f}" for value in values[name])
        print(f"{name:<9}{cells}{last_loss[name]:11.2f}")
    ratios = [v / m for v, m in zip(values["vaelib"], values["minimal"], strict=True)]
    cells = "".join(f"{ratio:14.3f}" for ratio in ratios)
    print(f"{'ratio':<9}{cells}   (vaelib / minimal; target <= 1.05)")
    print("each timed epoch, wall s / cpu s:")
    for name in ("minimal", "vaelib"):
        pairs = zip(times[name]["epoch"], times[name]["cpu"], strict=True)
        print(f"  {name:<9}" + "  ".join(f"{wall:.2f}/{cpu:.2f}" for wall, cpu in pairs))
    print("work of one compiled training step (same data, no timing):")
    for name in ("minimal", "vaelib"):
        print(f"  {name:<9}{work[name]}")
    sys.stdout.flush()


def _step_work(model, batch) -> str:
    """Count what one compiled training step computes: a load-independent comparison."""
    import keras

    try:
        if keras.backend.backend() == "jax":
            import jax

            state = model._get_jax_state(
                trainable_variables=True,
                non_trainable_variables=True,
                optimizer_variables=True,
                metrics_variables=True,
            )
            cost = jax.jit(model.train_step).lower(state, (batch,)).compile().cost_analysis()
            cost = cost[0] if isinstance(cost, list) else cost
            return f"XLA: {cost['flops']:.4g} flops, {cost['bytes accessed']:.4g} bytes accessed"
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            spec = tf.TensorSpec(batch.shape, batch.dtype)
            graph = tf.function(model.train_step).get_concrete_function((spec,)).graph
            types = [op.type for op in graph.get_operations()]
            return f"TF graph: {len(types)} ops, of which {types.count('MatMul')} MatMul"
    except Exception as error:  # private Keras internals: report, do not fail the timing
        return f"unavailable ({type(error).__name__}: {error})"
    return "unavailable on this backend"


def _minimal_vae_class():
    """The textbook Keras 3 VAE, written out in a few lines for comparison.

    `call` runs the encoder; `compute_loss` receives its outputs as `y_pred`, samples z,
    decodes and scores, so the network runs once per training step. Same layers, same loss
    (Bernoulli from logits summed over pixels + KL summed over latent dimensions, batch mean)
    and the same three tracked metrics as vaelib's VAE, without any of its options or checks.
    """
    import keras
    from keras import layers, ops

    class MinimalVAE(keras.Model):
        def __init__(self, hidden_units, latent_dim, seed=None, **kwargs):
            super().__init__(**kwargs)
            images = keras.Input((28, 28))
            hidden = layers.Dense(hidden_units, activation="relu")(layers.Flatten()(images))
            heads = [layers.Dense(latent_dim)(hidden), layers.Dense(latent_dim)(hidden)]
            self.encoder = keras.Model(images, heads)
            self.decoder = keras.Sequential(
                [
                    keras.Input((latent_dim,)),
                    layers.Dense(hidden_units, activation="relu"),
                    layers.Dense(28 * 28),
                    layers.Reshape((28, 28)),
                ]
            )
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.trackers = [
                keras.metrics.Mean(name=name)
                for name in ("reconstruction_loss", "kl_loss", "total_loss")
            ]

        def call(self, x):
            return self.encoder(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            z_mean, z_log_var = y_pred
            eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
            logits = self.decoder(z_mean + ops.exp(0.5 * z_log_var) * eps)
            bce = ops.binary_crossentropy(x, logits, from_logits=True)
            reconstruction = ops.sum(bce, axis=(1, 2))
            kl = 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1 - z_log_var, axis=1)
            total = reconstruction + kl
            for tracker, value in zip(self.trackers, (reconstruction, kl, total), strict=True):
                tracker.update_state(value)
            return ops.mean(total)

    return MinimalVAE


if __name__ == "__main__":
    sys.exit(main())
