"""Tests of the command line, `python -m vaelib`."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import vaelib
from vaelib.__main__ import main

TINY = ["--epochs", "1", "--num-train", "256", "--num-test", "128", "--hidden-units", "16"]


def _mnist_or_skip():
    data = pytest.importorskip("vaelib.data")
    if not (data.cache_dir() / "mnist").is_dir():
        pytest.skip("MNIST is not in the local cache (run `python -m vaelib data`)")
    try:
        data.load_mnist(num_train=10, num_test=10, timeout=1.0)
    except Exception as error:  # no cache and no network: nothing to train on
        pytest.skip(f"MNIST unavailable: {error}")


def _exit_code(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sweep", "--help"]])
def test_help_exits_0_and_explains_every_flag(argv, capsys):
    assert _exit_code(argv) == 0
    text = capsys.readouterr().out
    if argv == ["--help"]:
        assert all(command in text for command in ("data", "train", "sweep"))
        return
    flags = ["--epochs", "--latent-dim", "--hidden-units", "--data", "--num-train", "--out"]
    flags += ["--likelihood", "--gaussian-variance", "--gaussian-log-var"]
    flags += ["--beta"] if argv[0] == "train" else ["--betas", "--save-models"]
    for flag in flags:
        assert flag in text
    assert text.count("(default:") >= len(flags)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--beta", "-1"], "--beta"),
        (["train", "--beta", "nan"], "--beta"),
        (["train", "--epochs", "0"], "--epochs"),
        (["train", "--epochs", "two"], "--epochs"),
        (["train", "--hidden-units", "8", "0"], "--hidden-units"),
        (["train", "--likelihood", "poisson"], "--likelihood"),
        (["train", "--gaussian-variance", "shared"], "--gaussian-variance: only with"),
        (["sweep", "--likelihood", "bernoulli", "--gaussian-log-var", "-2"], "--gaussian-log-var"),
        (["train", "--likelihood", "gaussian", "--gaussian-log-var", "inf"], "--gaussian-log-var"),
        (["train", "--likelihood", "gaussian", "--gaussian-variance", "learned"], "variance"),
        (["sweep", "--betas", "0", "-0.5"], "--betas"),
        (["sweep", "--betas", "1", "1"], "--betas"),
        (["sweep", "--learning-rate", "0"], "--learning-rate"),
        (["train", "--out", "model.h5"], "--out"),
        (["fit"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_values_exit_2_with_a_message(argv, fragment, capsys):
    assert _exit_code(argv) == 2
    error = capsys.readouterr().err
    assert "error:" in error and fragment in error
    assert "Traceback" not in error


def test_module_entry_point_reports_bad_values_without_traceback():
    completed = subprocess.run(
        [sys.executable, "-m", "vaelib", "train", "--beta", "-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "argument --beta: expected a finite number >= 0, received '-1'" in completed.stderr


def test_failure_while_running_is_a_message_not_a_traceback(monkeypatch, capsys):
    import vaelib.__main__ as cli

    def unavailable(args):
        raise OSError("could not read the MNIST cache\n  1. vaelib cache: missing")

    monkeypatch.setattr(cli, "_load", unavailable)
    assert main(["train", *TINY]) == 1
    error = capsys.readouterr().err.strip()
    assert (
        error == "vaelib train: error: could not read the MNIST cache\n  1. vaelib cache: missing"
    )


def test_train_writes_a_model_that_loads(tmp_path, capsys):
    _mnist_or_skip()
    out = tmp_path / "nested" / "model.keras"
    status = main(["train", *TINY, "--beta", "0.5", "--out", str(out), "--verbose", "0"])
    assert status == 0
    assert out.exists()
    text = capsys.readouterr().out
    assert "test kl_loss" in text and "test ELBO" in text and "Saved" in text
    model = keras.models.load_model(out)
    assert model.beta == pytest.approx(0.5)


def test_sweep_writes_tables_and_figures(tmp_path):
    _mnist_or_skip()
    pytest.importorskip("vaelib.plots")
    status = main(["sweep", "--betas", "0.5", *TINY, "--out", str(tmp_path)])
    assert status == 0
    expected = {"results.csv", "results.md", "rate_distortion.png"}
    expected |= {"latent_beta0.5.png", "grid_beta0.5.png"}
    assert expected <= set(os.listdir(tmp_path))
    with open(tmp_path / "results.csv") as handle:
        lines = handle.read().strip().splitlines()
    assert lines[0] == "beta,test_loss,reconstruction_loss,kl_loss" and len(lines) == 2


# ---------------------------------------------------------------------- --data FILE.npz

QUICK = ["--epochs", "1", "--batch-size", "32", "--hidden-units", "8", "--verbose", "0"]


@pytest.fixture
def tabular_npz(tmp_path):
    """64 training and 32 test rows of 20 standardised features, no labels."""
    x_train, _ = vaelib.make_tabular(64, num_features=20, seed=0)
    x_test, _ = vaelib.make_tabular(32, num_features=20, seed=1)
    path = tmp_path / "tabular.npz"
    np.savez(path, x_train=x_train, x_test=x_test)
    return str(path)


def _dense_widths(model):
    return [layer.units for layer in model.layers if layer.name.startswith("hidden")]


def test_train_gaussian_shared_variance_saves_the_learned_variance(tabular_npz, tmp_path, capsys):
    out = tmp_path / "gaussian.keras"
    argv = ["train", "--data", tabular_npz, "--likelihood", "gaussian"]
    argv += ["--gaussian-variance", "shared", "--gaussian-log-var", "-1", *QUICK, "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    model = keras.saving.load_model(out)
    likelihood = model.likelihood
    assert isinstance(likelihood, vaelib.Gaussian) and likelihood.variance == "shared"
    assert any(weight is likelihood.log_var for weight in model.trainable_weights)
    log_var = float(keras.ops.convert_to_numpy(likelihood.log_var))
    assert log_var != pytest.approx(-1.0, abs=1e-6)  # learned: one epoch moved it from -1
    assert f"learned log-variance (shared) {log_var:.3f}" in text
    assert model.data_shape == (20,)


def test_hidden_units_takes_several_widths(tabular_npz, tmp_path):
    out = tmp_path / "deep.keras"
    argv = ["train", "--data", tabular_npz, "--likelihood", "gaussian", *QUICK]
    assert main([*argv, "--hidden-units", "8", "4", "--out", str(out)]) == 0
    model = keras.saving.load_model(out)
    assert _dense_widths(model.encoder) == [8, 4]
    assert _dense_widths(model.decoder) == [4, 8]


def test_sweep_save_models_writes_one_model_per_beta(tabular_npz, tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", "--data", tabular_npz, "--likelihood", "gaussian", "--betas", "0.5", "1"]
    argv += ["--epochs", "1", "--hidden-units", "8", "--save-models", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    files = set(os.listdir(out))
    assert {"vae_beta_0.5.keras", "vae_beta_1.keras", "results.csv", "rate_distortion.png"} <= files
    assert not any(name.startswith(("latent_beta", "grid_beta")) for name in files)
    assert f"Saved 2 models to {out}" in captured.out
    assert "need test labels" in captured.err and "need images" in captured.err
    for beta in (0.5, 1.0):
        model = keras.saving.load_model(out / f"vae_beta_{beta:g}.keras")
        assert model.beta == pytest.approx(beta)
        assert model.likelihood.kind == "gaussian"


def test_sweep_on_labelled_images_draws_the_latent_figures(tmp_path):
    pytest.importorskip("vaelib.plots")
    rng = np.random.default_rng(0)
    path = tmp_path / "images.npz"
    np.savez(
        path,
        x_train=rng.random((64, 6, 6), dtype="float32"),
        x_test=rng.random((32, 6, 6), dtype="float32"),
        y_test=np.arange(32) % 4,
    )
    argv = ["sweep", "--data", str(path), "--betas", "1", "--epochs", "1", "--hidden-units", "8"]
    assert main([*argv, "--likelihood", "continuous_bernoulli", "--out", str(tmp_path)]) == 0
    assert {"latent_beta1.png", "grid_beta1.png"} <= set(os.listdir(tmp_path))


def _write(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _bad_files(folder):
    rows = np.zeros((8, 5), dtype="float32")
    (folder / "notes.npz").write_text("not an archive")
    np.save(folder / "single.npy", rows)
    return {
        "missing file": (str(folder / "absent.npz"), "file not found"),
        "not an npz": (str(folder / "notes.npz"), "not a NumPy .npz file"),
        "one array": (str(folder / "single.npy"), "not an .npz archive"),
        "no x_test": (_write(folder / "a.npz", x_train=rows), "no array x_test"),
        "no x_train": (_write(folder / "b.npz", x_test=rows), "no array x_train"),
        "shapes differ": (
            _write(folder / "c.npz", x_train=rows, x_test=np.zeros((8, 6))),
            "x_train and x_test differ per example",
        ),
        "labels short": (
            _write(folder / "d.npz", x_train=rows, x_test=rows, y_test=np.arange(7)),
            "y_test has shape (7,)",
        ),
        "strings": (
            _write(folder / "e.npz", x_train=rows.astype(str), x_test=rows),
            "x_train is not numeric",
        ),
        "objects": (
            _write(folder / "f.npz", x_train=rows, x_test=np.array([None] * 8)),
            "x_test is not numeric",
        ),
        "one value per example": (
            _write(folder / "g.npz", x_train=np.zeros(8), x_test=rows),
            "x_train has shape (8,)",
        ),
    }


BAD_FILE_CASES = (
    "missing file",
    "not an npz",
    "one array",
    "no x_test",
    "no x_train",
    "shapes differ",
    "labels short",
    "strings",
    "objects",
    "one value per example",
)


@pytest.mark.parametrize("case", BAD_FILE_CASES)
@pytest.mark.parametrize("command", ["train", "sweep"])
def test_bad_data_file_is_one_line_naming_the_problem(case, command, tmp_path, capsys):
    path, fragment = _bad_files(tmp_path)[case]
    out = str(tmp_path / ("m.keras" if command == "train" else "out"))
    assert main([command, "--data", path, "--epochs", "1", "--out", out]) == 2
    error = capsys.readouterr().err
    assert error.endswith("\n") and error.count("\n") == 1, error
    assert error.startswith(f"vaelib {command}: error: argument --data: ")
    assert fragment in error
    assert not os.path.exists(out)


def test_data_the_likelihood_refuses_is_one_line_with_status_1(tmp_path, capsys):
    pixels = np.random.default_rng(0).integers(0, 256, (16, 4, 4)).astype("uint8")
    path = _write(tmp_path / "raw.npz", x_train=pixels, x_test=pixels)
    argv = ["train", "--data", path, *QUICK, "--out", str(tmp_path / "m.keras")]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert error.startswith("vaelib train: error: Expected values in [0, 1] for the Bernoulli")
    assert "divide by 255" in error
