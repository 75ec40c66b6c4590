"""Dead units, posterior collapse, flat loss logs and prior coverage."""

import math

import numpy as np
import pytest
from conftest import images, small_vae

from vaelib import diagnostics
from vaelib.networks import build_conv_vae


def test_dead_units_counts_units_that_never_fire():
    model = build_conv_vae(latent_dim=2, dense_units=8, seed=0)
    dense = model.encoder.get_layer("hidden")
    kernel, bias = dense.get_weights()
    kernel[:, :3] = 0.0
    bias[:3] = -1.0  # three units with negative input on every example: dead
    dense.set_weights([kernel, bias])
    x = images(num=32, shape=(28, 28, 1))
    activity = diagnostics.unit_activity(model, x)
    assert activity.shape == (8,)
    assert np.all(activity[:3] == 0) and np.all(activity[3:] > 0)
    assert diagnostics.dead_units(model, x) == 3
    with pytest.raises(ValueError, match="Received: layer='dense'"):
        diagnostics.dead_units(model, x, layer="dense")


def test_a_negative_linear_or_leaky_unit_is_not_dead_but_a_constant_one_is():
    for activation in (None, "leaky_relu"):
        model = build_conv_vae(latent_dim=2, dense_units=8, dense_activation=activation, seed=0)
        dense = model.encoder.get_layer("hidden")
        kernel, bias = dense.get_weights()
        bias[:3] = -100.0  # always negative, but still varying with the input: alive
        kernel[:, 5] = 0.0  # constant output whatever the input: dead
        dense.set_weights([kernel, bias])
        x = images(num=32, shape=(28, 28, 1))
        assert np.all(diagnostics.unit_activity(model, x)[:3] == 0)
        assert diagnostics.dead_units(model, x) == 1, activation


def test_collapse_report_tells_a_collapsed_model_from_a_working_one():
    x = images(num=96)
    working = small_vae()
    working.fit(x, epochs=30, batch_size=32, verbose=0)
    report = diagnostics.collapse_report(working, x)
    assert not report.collapsed and report.active_units >= 1 and report.kl > 0.1
    collapsed = small_vae()
    for name in ("z_mean", "z_log_var"):  # the encoder ignores x: q(z|x) = N(0, I)
        layer = collapsed.encoder.get_layer(name)
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    report = diagnostics.collapse_report(collapsed, x)
    assert report.collapsed and report.active_units == 0
    assert report.kl == pytest.approx(0.0, abs=1e-6) and report.output_spread < 1e-6


def test_flat_loss_logs():
    assert diagnostics.loss_is_flat([634.5, 537.6, 537.6, 537.6])
    assert diagnostics.loss_is_flat([543.4] * 4)
    assert not diagnostics.loss_is_flat([368.2, 300.1, 290.4, 286.0])
    with pytest.raises(ValueError, match="at least 3 finite"):
        diagnostics.loss_is_flat([1.0, float("nan"), 1.0])
    assert diagnostics.constant_output_loss(784) == pytest.approx(784 * math.log(2))


def test_prior_coverage_is_high_when_codes_cover_the_prior_and_low_otherwise():
    class Stub:
        def __init__(self, mean, log_var):
            self.mean, self.log_var = mean, log_var

        def encode(self, x, batch_size=None):
            return self.mean, self.log_var

    rng = np.random.default_rng(0)
    spread = Stub(rng.standard_normal((2000, 2)), np.full((2000, 2), math.log(0.3**2)))
    assert diagnostics.prior_coverage(spread, None, num_draws=2000) > 0.95
    far = Stub(rng.standard_normal((2000, 2)) + 10.0, np.full((2000, 2), math.log(0.3**2)))
    assert diagnostics.prior_coverage(far, None, num_draws=2000) == 0.0
