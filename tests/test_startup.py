"""`import vaelib` and `python -m vaelib --help` print no start-up lines."""

import os
import subprocess
import sys

import pytest


def _run(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "VAELIB_VERBOSE"))}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        (
            "-c",
            "import vaelib, numpy; vaelib.set_seed(0); m = vaelib.build_mlp_vae(hidden_units=4); "
            "m.compile('adam'); m.fit(numpy.zeros((300, 28, 28)), batch_size=128, verbose=0)",
        ),
        ("-m", "vaelib", "--help"),
    ],
    ids=["import-and-run", "help"],
)
def test_no_start_up_lines(args):
    result = _run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


@pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow",
    reason="on TensorFlow, `import keras` itself loads TensorFlow before vaelib can quiet it",
)
def test_no_start_up_lines_when_keras_is_imported_first():
    # The chapters' import order (keras, then vaelib); on JAX, seeding loads TensorFlow later.
    result = _run("-c", "import keras, vaelib; vaelib.set_seed(0)")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_the_lines_are_shown_on_request():
    result = _run("-c", "import os; os.environ['VAELIB_VERBOSE_IMPORT'] = '1'; import vaelib")
    assert result.returncode == 0
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        assert "oneDNN" in result.stderr or "cuda" in result.stderr.lower()
