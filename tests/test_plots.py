"""Tests for vaelib.plots, through a fake model: the plots need only encode/decode."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vaelib import plots  # noqa: E402


class FakeModel:
    """Decodes a code to a 28x28 image whose brightness is a function of the code."""

    def __init__(self, latent_dim=2, output="square"):
        self.latent_dim = latent_dim
        self.output = output
        self.decoded = []
        self.encoded = []

    def encode(self, x):
        self.encoded.append(np.array(x))
        flat = np.asarray(x).reshape(len(x), -1)
        z_mean = np.stack([flat.mean(axis=1), flat.std(axis=1)], axis=1)[:, : self.latent_dim]
        return z_mean, np.zeros_like(z_mean)

    def decode(self, z):
        z = np.asarray(z, dtype=np.float32)
        self.decoded.append(z)
        level = 1.0 / (1.0 + np.exp(-z.sum(axis=1)))
        images = np.broadcast_to(level[:, None, None], (len(z), 28, 28)).astype(np.float32)
        if self.output == "flat":
            return images.reshape(len(z), 784)
        if self.output == "channel":
            return images[..., None]
        return images


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("plots must never call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    assert plt.get_fignums() == [], "plots must not leave figures open in pyplot"


def _images(fig):
    return [image for ax in fig.axes for image in ax.get_images()]


def test_latent_scatter_one_panel_with_legend():
    rng = np.random.default_rng(0)
    z, labels = rng.normal(size=(200, 2)), rng.integers(0, 10, 200)
    fig = plots.latent_scatter(z, labels, class_names=[f"c{i}" for i in range(10)], title="t")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    legend = fig.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == [f"c{i}" for i in range(10)]


def test_latent_scatter_reference_shares_limits():
    z = np.random.default_rng(0).normal(size=(100, 2)) * 20.0
    fig = plots.latent_scatter(z, np.zeros(100, int), reference=True, num_reference=300)
    left, right = fig.axes
    assert len(fig.axes) == 2
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    assert right.collections[0].get_offsets().shape == (300, 2)
    assert left.get_xlim()[1] >= z[:, 0].max()


def test_latent_scatter_into_given_axes():
    fig, (a, b, c) = plt.subplots(1, 3)
    plt.close(fig)
    z = np.zeros((5, 2))
    assert plots.latent_scatter(z, None, ax=a) is fig
    assert plots.latent_scatter(z, np.arange(5), reference=True, ax=(b, c)) is fig
    assert len(a.collections) == 1 and len(c.collections) == 1


@pytest.mark.parametrize(
    "z, labels, kwargs",
    [
        (np.zeros((10, 3)), None, {}),
        (np.zeros(10), None, {}),
        (np.zeros((0, 2)), None, {}),
        (np.full((10, 2), np.nan), None, {}),
        (np.zeros((10, 2)), np.zeros(9), {}),
        (np.zeros((10, 2)), np.arange(10), {"class_names": ["a", "b"]}),
        (np.zeros((10, 2)), None, {"reference": True, "num_reference": 0}),
        (np.zeros((10, 2)), None, {"reference": True, "ax": "axes"}),
    ],
)
def test_latent_scatter_bad_input(z, labels, kwargs):
    with pytest.raises(ValueError, match="Expected"):
        plots.latent_scatter(z, labels, **kwargs)


def test_latent_scatter_error_suggests_two_dimensions():
    with pytest.raises(ValueError, match=r"z\[:, :2\]"):
        plots.latent_scatter(np.zeros((10, 4)), None)


@pytest.mark.parametrize("output", ["square", "flat", "channel"])
def test_decoded_grid_image_shape(output):
    model = FakeModel(output=output)
    fig = plots.decoded_grid(model, n=5, title="grid")
    (image,) = _images(fig)
    assert image.get_array().shape == (5 * 28, 5 * 28)
    assert len(fig.axes) == 1
    assert model.decoded[0].shape == (25, 2)


def test_decoded_grid_orientation_and_limits():
    model = FakeModel()
    plots.decoded_grid(model, n=3, limit=2.0)
    codes = model.decoded[0].reshape(3, 3, 2)
    np.testing.assert_allclose(codes[0, :, 0], [-2, 0, 2])  # z_1 grows left to right
    np.testing.assert_allclose(codes[:, 0, 1], [2, 0, -2])  # z_2 grows bottom to top


def test_decoded_grid_quantile_differs_from_linear():
    linear, quantile = FakeModel(), FakeModel()
    plots.decoded_grid(linear, n=7, limit=3.0, spacing="linear")
    plots.decoded_grid(quantile, n=7, limit=3.0, spacing="quantile")
    lin = np.unique(linear.decoded[0][:, 0])
    qua = np.unique(quantile.decoded[0][:, 0])
    np.testing.assert_allclose(lin, np.linspace(-3, 3, 7), atol=1e-6)
    np.testing.assert_allclose(qua[[0, -1]], [-3, 3], atol=1e-5)  # same range
    assert not np.allclose(lin, qua)
    assert np.all(np.abs(qua[1:-1]) < np.abs(lin[1:-1]) + 1e-6)  # denser near the origin
    # Every cell holds the same prior mass: the CDF of the codes is evenly spaced.
    from scipy.stats import norm

    np.testing.assert_allclose(np.diff(norm.cdf(qua)), np.diff(norm.cdf(qua)).mean(), atol=1e-6)


def test_decoded_grid_single_code_is_the_origin():
    model = FakeModel()
    plots.decoded_grid(model, n=1, spacing="quantile")
    np.testing.assert_allclose(model.decoded[0], [[0.0, 0.0]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"n": 2.5},
        {"limit": 0.0},
        {"limit": -1.0},
        {"limit": float("inf")},
        {"spacing": "log"},
        {"digit_size": 20},
    ],
)
def test_decoded_grid_bad_input(kwargs):
    with pytest.raises(ValueError, match="Expected"):
        plots.decoded_grid(FakeModel(), **kwargs)


def test_decoded_grid_needs_a_2d_latent_and_a_decoder():
    with pytest.raises(ValueError, match="latent_dim=3"):
        plots.decoded_grid(FakeModel(latent_dim=3), n=2)
    with pytest.raises(ValueError, match="decode"):
        plots.decoded_grid(object(), n=2)


def test_reconstructions():
    model = FakeModel()
    x = np.random.default_rng(0).uniform(size=(12, 784)).astype(np.float32)
    fig = plots.reconstructions(model, x, n=4)
    assert len(fig.axes) == 2
    shapes = [image.get_array().shape for image in _images(fig)]
    assert shapes == [(28, 4 * 28), (28, 4 * 28)]
    assert model.encoded[0].shape == (4, 784)  # encoder sees x in its own shape
    with pytest.raises(ValueError, match="Expected"):
        plots.reconstructions(model, x, n=13)
    with pytest.raises(ValueError, match="Expected"):
        plots.reconstructions(model, x, n=0)


def test_prior_samples_are_seeded():
    first, second = FakeModel(latent_dim=5), FakeModel(latent_dim=5)
    fig = plots.prior_samples(first, n=10, seed=3)
    plots.prior_samples(second, n=10, seed=3)
    assert first.decoded[0].shape == (10, 5)
    np.testing.assert_array_equal(first.decoded[0], second.decoded[0])
    (image,) = _images(fig)
    assert image.get_array().shape == (3 * 28, 4 * 28)  # ceil(sqrt(10)) = 4 per row
    with pytest.raises(ValueError, match="Expected"):
        plots.prior_samples(first, n=0)


def test_image_grid():
    images = np.random.default_rng(0).uniform(size=(13, 28, 28, 1))
    fig = plots.image_grid(images, ncols=5, title="x")
    (image,) = _images(fig)
    assert image.get_array().shape == (3 * 28, 5 * 28)
    fig, ax = plt.subplots()
    plt.close(fig)
    assert plots.image_grid(images[:2, ..., 0], ax=ax) is fig
    for bad in (np.zeros((3, 5)), np.zeros((0, 28, 28)), np.zeros((2, 28, 28, 3))):
        with pytest.raises(ValueError, match="Expected"):
            plots.image_grid(bad)
    with pytest.raises(ValueError, match="ncols"):
        plots.image_grid(images, ncols=0)


def test_training_curves_train_and_validation():
    logs = {
        "loss": [3.0, 2.0],
        "total_loss": [3.0, 2.0],
        "reconstruction_loss": [2.0, 1.5],
        "kl_loss": [1.0, 0.5],
        "val_total_loss": [3.5, 2.5],
    }
    fig = plots.training_curves(logs)
    assert [ax.get_title() for ax in fig.axes] == ["total loss", "reconstruction loss", "KL"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 1, 1]


def test_training_curves_accepts_a_history_object():
    class History:
        history = {"loss": [1.0, 0.5, 0.2]}

    fig = plots.training_curves(History())
    assert len(fig.axes) == 1


@pytest.mark.parametrize("history", [{}, [1, 2], {"loss": []}, {"loss": "abc"}])
def test_training_curves_bad_input(history):
    with pytest.raises(ValueError, match="Expected"):
        plots.training_curves(history)


def test_rate_distortion():
    rows = [
        {"beta": 10.0, "reconstruction_loss": 200.0, "kl_loss": 0.5, "test_loss": 205.0},
        {"beta": 0.1, "reconstruction_loss": 120.0, "kl_loss": 9.0, "test_loss": 121.0},
        {"beta": 1.0, "reconstruction_loss": 150.0, "kl_loss": 4.0, "test_loss": 154.0},
    ]
    fig = plots.rate_distortion(rows)
    (ax,) = fig.axes
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [9.0, 4.0, 0.5])  # sorted by beta
    assert [t.get_text() for t in ax.texts] == [r"$\beta$ = 0.1", r"$\beta$ = 1", r"$\beta$ = 10"]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        {"beta": 1.0},
        [{"beta": 1.0, "kl_loss": 2.0}],
        [{"beta": 1, "kl_loss": 1, "reconstruction_loss": None}],
    ],
)
def test_rate_distortion_bad_input(rows):
    with pytest.raises(ValueError, match="Expected"):
        plots.rate_distortion(rows)


def test_figures_save_without_a_display():
    fig = plots.latent_scatter(np.zeros((4, 2)), np.arange(4), reference=True, num_reference=50)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_decoded_grid_accepts_wide_linear_limits_but_not_wide_quantile_ones():
    # A beta = 0 model's codes spread over tens of units; a linear grid must reach them.
    model = FakeModel()
    fig = plots.decoded_grid(model, n=3, limit=64.0, spacing="linear")
    assert isinstance(fig, Figure)
    assert np.isclose(np.abs(model.decoded[-1]).max(), 64.0)
    with pytest.raises(ValueError, match="spacing='linear'"):
        plots.decoded_grid(model, n=3, limit=64.0, spacing="quantile")
