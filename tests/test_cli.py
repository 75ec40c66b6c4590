"""Tests of the command line, `python -m vaelib`."""

import os
import subprocess
import sys

import keras
import pytest

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
    flags = ["--epochs", "--latent-dim", "--hidden-units", "--dataset", "--num-train", "--out"]
    flags += ["--beta", "--likelihood"] if argv[0] == "train" else ["--betas"]
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
        (["train", "--dataset", "cifar10"], "--dataset"),
        (["train", "--likelihood", "poisson"], "--likelihood"),
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
