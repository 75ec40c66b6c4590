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
    """Decodes a code to an image whose brightness is a function of the code.

    Images have `image_shape` (RGB images get a different level per channel); `flat=True`
    returns them flattened to `(n, prod(image_shape))`, as a flat MLP decoder does.
    """

    def __init__(self, latent_dim=2, image_shape=(28, 28), flat=False):
        self.latent_dim = latent_dim
        self.image_shape = tuple(image_shape)
        self.flat = flat
        self.decoded = []
        self.encoded = []

    def encode(self, x):
        self.encoded.append(np.array(x))
        flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        z_mean = flat[:, : self.latent_dim] - 0.5
        return z_mean, np.zeros_like(z_mean)

    def decode(self, z):
        z = np.asarray(z, dtype=np.float32)
        self.decoded.append(z)
        level = 1.0 / (1.0 + np.exp(-np.clip(z.sum(axis=1), -50, 50)))
        images = np.ones((len(z), *self.image_shape), dtype=np.float32)
        images *= level.reshape(-1, *[1] * len(self.image_shape))
        if self.image_shape[-1] == 3:
            images *= np.array([1.0, 0.5, 0.25], dtype=np.float32)
        return images.reshape(len(z), -1) if self.flat else images


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


def test_latent_scatter_without_labels_is_grey_not_a_class_colour():
    # Chapter 4 drew the prior's samples in the first class's colour (tab:blue = digit 0).
    fig = plots.latent_scatter(np.random.default_rng(0).normal(size=(50, 2)))
    colour = fig.axes[0].collections[0].get_facecolors()[0][:3]
    np.testing.assert_allclose(colour, [0.35, 0.35, 0.35])
    plt.close(fig)


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


@pytest.mark.parametrize(
    "image_shape, flat", [((28, 28), False), ((28, 28), True), ((28, 28, 1), False)]
)
def test_decoded_grid_image_shape(image_shape, flat):
    model = FakeModel(image_shape=image_shape, flat=flat)
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


def test_decoded_grid_needs_dims_for_a_larger_latent_and_a_model():
    with pytest.raises(ValueError, match=r"Expected dims=\(i, j\).*latent_dim=3"):
        plots.decoded_grid(FakeModel(latent_dim=3), n=2)
    with pytest.raises(ValueError, match="Expected a model"):
        plots.decoded_grid(object(), n=2)
    with pytest.raises(ValueError, match="Expected a model with a decode"):
        plots.decoded_grid(type("NoDecoder", (), {"latent_dim": 2})(), n=2)


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
    for bad in (np.zeros((3, 5)), np.zeros((0, 28, 28)), np.zeros((2, 28, 28, 2))):
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


def _boxes_overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("rate_scale", ["linear", "symlog"])
def test_rate_distortion_labels_do_not_overlap(rate_scale):
    # Chapter 4's crowded middle: three betas within 2 nats of rate and 1.5 of distortion.
    values = [(0.0, 515.8, 140.2), (0.02, 26.7, 141.6), (0.1, 12.2, 143.3), (0.5, 7.3, 144.7)]
    values += [(1.0, 6.2, 143.9), (2.0, 5.3, 145.3), (10.0, 2.5, 162.0), (20.0, 0.6, 190.3)]
    rows = [{"beta": b, "kl_loss": r, "reconstruction_loss": d} for b, r, d in values]
    fig = plots.rate_distortion(rows, rate_scale=rate_scale)
    (ax,) = fig.axes
    assert ax.get_xscale() == rate_scale
    boxes = [t.get_window_extent() for t in ax.texts]
    assert len(boxes) == 8
    pairs = [
        (i, j) for i in range(8) for j in range(i + 1, 8) if _boxes_overlap(boxes[i], boxes[j])
    ]
    assert pairs == []
    plt.close(fig)


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


# -- any image shape -----------------------------------------------------------------------------

IMAGE_SHAPES = [(28, 28), (28, 28, 1), (32, 32, 3), (64, 48, 3)]


def _canvas_shape(image_shape, rows, cols):
    """The shape of `rows x cols` tiled images: grey images lose their channel axis."""
    height, width = image_shape[:2]
    channels = (3,) if image_shape[-1] == 3 and len(image_shape) == 3 else ()
    return (rows * height, cols * width, *channels)


def _check_colours(image, image_shape):
    if image_shape[-1] == 3 and len(image_shape) == 3:
        array = image.get_array()
        assert array.ndim == 3 and array.shape[-1] == 3
        assert not np.allclose(array[..., 0], array[..., 2])  # the channels stay distinct
    else:
        assert image.get_cmap().name == "gray"
        assert image.get_clim() == (0.0, 1.0)


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_image_grid_any_shape(image_shape):
    images = FakeModel(image_shape=image_shape).decode(np.linspace(-2, 2, 14).reshape(7, 2))
    fig = plots.image_grid(images, ncols=4)
    (image,) = _images(fig)
    assert isinstance(fig, Figure)
    assert image.get_array().shape == _canvas_shape(image_shape, 2, 4)
    _check_colours(image, image_shape)


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_reconstructions_any_shape(image_shape):
    model = FakeModel(image_shape=image_shape)
    x = np.random.default_rng(0).uniform(size=(5, *image_shape)).astype(np.float32)
    fig = plots.reconstructions(model, x, n=3)
    originals, recon = _images(fig)
    assert originals.get_array().shape == _canvas_shape(image_shape, 1, 3)
    assert recon.get_array().shape == _canvas_shape(image_shape, 1, 3)
    _check_colours(recon, image_shape)
    np.testing.assert_allclose(
        originals.get_array()[: image_shape[0], : image_shape[1]], x[0].squeeze()
    )


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_prior_samples_any_shape(image_shape):
    fig = plots.prior_samples(FakeModel(latent_dim=3, image_shape=image_shape), n=6, ncols=3)
    (image,) = _images(fig)
    assert image.get_array().shape == _canvas_shape(image_shape, 2, 3)
    _check_colours(image, image_shape)


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_decoded_grid_any_shape(image_shape):
    fig = plots.decoded_grid(FakeModel(image_shape=image_shape), n=4)
    (image,) = _images(fig)
    assert image.get_array().shape == _canvas_shape(image_shape, 4, 4)
    _check_colours(image, image_shape)


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_latent_traversal_any_shape(image_shape):
    fig = plots.latent_traversal(FakeModel(latent_dim=3, image_shape=image_shape), n=5)
    (image,) = _images(fig)
    assert image.get_array().shape == _canvas_shape(image_shape, 3, 5)
    _check_colours(image, image_shape)


@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
def test_interpolation_any_shape(image_shape):
    model = FakeModel(latent_dim=4, image_shape=image_shape)
    rng = np.random.default_rng(0)
    x_start, x_end = rng.uniform(size=(2, *image_shape)).astype(np.float32)
    fig = plots.interpolation(model, x_start, x_end, n=6)
    shapes = [image.get_array().shape for image in _images(fig)]
    end, path = _canvas_shape(image_shape, 1, 1), _canvas_shape(image_shape, 1, 6)
    assert shapes == [end, path, end] * 2
    _check_colours(_images(fig)[1], image_shape)


def test_flat_images_need_a_square_or_an_image_shape():
    rgb = FakeModel(image_shape=(32, 32, 3)).decode(np.zeros((4, 2)))
    flat = rgb.reshape(4, -1)
    with pytest.raises(ValueError, match=r"Expected images of shape .*images\.shape=\(4, 3072\)"):
        plots.image_grid(flat)
    (image,) = _images(plots.image_grid(flat, image_shape=(32, 32, 3)))
    np.testing.assert_array_equal(image.get_array(), np.concatenate(list(rgb), axis=1))
    model = FakeModel(image_shape=(64, 48, 3), flat=True)
    (image,) = _images(plots.decoded_grid(model, n=2, image_shape=(64, 48, 3)))
    assert image.get_array().shape == (128, 96, 3)
    (image,) = _images(plots.prior_samples(FakeModel(flat=True), n=4, ncols=2))
    assert image.get_array().shape == (56, 56)  # 784 is 28 * 28


@pytest.mark.parametrize("image_shape", [(8, 6, 3), (8, 6)])
def test_values_are_clipped(image_shape, caplog):
    images = np.full((2, *image_shape), 1.5)
    images[1] = -0.5
    (image,) = _images(plots.image_grid(images))
    assert image.get_array().shape == (8, 12, *image_shape[2:])
    assert image.get_array().max() == 1.0 and image.get_array().min() == 0.0
    assert "Clipping" not in caplog.text  # clipped before matplotlib has to


@pytest.mark.parametrize(
    "images, kwargs",
    [
        (np.zeros((2, 28, 28, 2)), {}),  # two channels
        (np.zeros((2, 4, 28, 28, 1)), {}),  # 5-D
        (np.zeros((2, 10)), {}),  # flat, not square
        (np.zeros(28), {}),  # no batch axis
        (np.zeros((2, 784)), {"image_shape": (28, 27)}),  # wrong size
        (np.zeros((2, 784)), {"image_shape": (784,)}),  # not an image shape
        (np.zeros((2, 56)), {"image_shape": (4, 7, 2)}),  # two channels
    ],
)
def test_bad_image_shapes(images, kwargs):
    with pytest.raises(ValueError, match=r"Expected .*Received: images\.shape="):
        plots.image_grid(images, **kwargs)


def test_model_plots_reject_bad_decoded_shapes():
    two_channels = FakeModel(image_shape=(28, 28, 2))
    with pytest.raises(ValueError, match=r"Expected model\.decode\(z\) of shape"):
        plots.prior_samples(two_channels, n=2)
    with pytest.raises(ValueError, match=r"Expected model\.decode\(z\) of shape"):
        plots.decoded_grid(two_channels, n=2)
    with pytest.raises(ValueError, match=r"Expected model\.decode\(z\) of shape"):
        plots.latent_traversal(two_channels, n=2)
    x = np.zeros((2, 28, 28, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"Expected model\.decode\(z\) to hold images"):
        plots.reconstructions(FakeModel(image_shape=(28, 28)), x, n=2)  # decodes grey


# -- decoded_grid: ticks and dims ----------------------------------------------------------------


def _ticks(ax, axis):
    get = ax.get_xticks if axis == "x" else ax.get_yticks
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return np.asarray(get()), [float(label.get_text()) for label in labels]


@pytest.mark.parametrize("n", [7, 20, 30])
def test_decoded_grid_ticks_are_round_and_include_zero(n):
    fig = plots.decoded_grid(FakeModel(), n=n, limit=3.0)
    (ax,) = fig.axes
    for axis in ("x", "y"):
        _, values = _ticks(ax, axis)
        assert sorted(values) == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]


def test_decoded_grid_ticks_sit_on_the_cell_of_their_value():
    model = FakeModel()
    fig = plots.decoded_grid(model, n=7, limit=3.0)  # cells at -3, -2, ..., 3
    (ax,) = fig.axes
    codes = model.decoded[0].reshape(7, 7, 2)
    positions, values = _ticks(ax, "x")
    for position, value in zip(positions, values, strict=True):
        column = round((position - 13.5) / 28)
        assert position == pytest.approx(column * 28 + 13.5)  # the centre of a cell
        assert codes[0, column, 0] == pytest.approx(value)
    positions, values = _ticks(ax, "y")
    for position, value in zip(positions, values, strict=True):
        row = round((position - 13.5) / 28)
        assert position == pytest.approx(row * 28 + 13.5)
        assert codes[row, 0, 1] == pytest.approx(value)  # z_2 grows upwards
    # With an even n no cell is decoded at 0: its tick falls between the two nearest cells.
    fig = plots.decoded_grid(FakeModel(), n=20, limit=3.0)
    positions, values = _ticks(fig.axes[0], "x")
    assert positions[values.index(0.0)] == pytest.approx(10 * 28 - 0.5)
    assert positions[values.index(3.0)] == pytest.approx(19 * 28 + 13.5)


def test_decoded_grid_ticks_for_other_limits_and_spacings():
    fig = plots.decoded_grid(FakeModel(), n=9, limit=64.0)
    _, values = _ticks(fig.axes[0], "x")
    assert 0.0 in values and all(v % 10 == 0 or v % 25 == 0 for v in values)
    model = FakeModel()
    fig = plots.decoded_grid(model, n=9, limit=3.0, spacing="quantile")
    positions, values = _ticks(fig.axes[0], "x")
    assert values == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert positions[3] == pytest.approx(4 * 28 + 13.5)  # the middle cell is decoded at 0
    assert np.all(np.diff(positions[:4]) < 28 * 4) and np.all(np.diff(positions) > 0)


def test_decoded_grid_dims_of_a_larger_latent():
    model = FakeModel(latent_dim=5)
    fig = plots.decoded_grid(model, n=3, limit=1.0, dims=(1, 3))
    codes = model.decoded[0]
    assert codes.shape == (9, 5)
    np.testing.assert_array_equal(codes[:, [0, 2, 4]], 0.0)
    np.testing.assert_allclose(np.unique(codes[:, 1]), [-1, 0, 1])
    np.testing.assert_allclose(codes[:3, 3], [1, 1, 1])  # top row: largest z_4
    assert fig.axes[0].get_xlabel() == "$z_{2}$" and fig.axes[0].get_ylabel() == "$z_{4}$"
    for dims in [(1, 1), (0, 5), (0,), (0, 1, 2), 3]:
        with pytest.raises(ValueError, match="Expected dims"):
            plots.decoded_grid(model, n=2, dims=dims)


# -- latent_traversal ----------------------------------------------------------------------------


def test_latent_traversal_one_labelled_row_per_dimension():
    model = FakeModel(latent_dim=5)
    fig = plots.latent_traversal(model, n=9, limit=2.0)
    (ax,) = fig.axes
    (image,) = _images(fig)
    assert image.get_array().shape == (5 * 28, 9 * 28)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"$z_{{{d}}}$" for d in range(1, 6)]
    np.testing.assert_allclose(ax.get_yticks(), np.arange(5) * 28 + 13.5)
    assert [float(t.get_text()) for t in ax.get_xticklabels()] == [
        -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0
    ]  # fmt: skip
    codes = model.decoded[0].reshape(5, 9, 5)
    for d in range(5):
        np.testing.assert_allclose(codes[d, :, d], np.linspace(-2, 2, 9))
        np.testing.assert_array_equal(np.delete(codes[d], d, axis=1), 0.0)  # from the origin


def test_latent_traversal_starts_from_z_or_from_the_code_of_x():
    model = FakeModel(latent_dim=4)
    start = np.array([0.5, -1.0, 2.0, 0.25])
    plots.latent_traversal(model, z=start, dims=[2, 0], n=3)
    codes = model.decoded[0].reshape(2, 3, 4)
    np.testing.assert_allclose(codes[0, :, [0, 1, 3]], np.tile(start[[0, 1, 3], None], 3))
    np.testing.assert_allclose(codes[0, :, 2], [-3, 0, 3])
    np.testing.assert_allclose(codes[1, :, 0], [-3, 0, 3])
    x = np.random.default_rng(0).uniform(size=(28, 28)).astype(np.float32)
    fig = plots.latent_traversal(model, x=x, n=3, max_rows=2)
    assert model.encoded[0].shape == (1, 28, 28)  # a batch axis added
    z_mean = model.encode(x[None])[0][0]
    np.testing.assert_allclose(model.decoded[1][:, 2:], np.tile(z_mean[2:], (6, 1)), rtol=1e-6)
    assert len(fig.axes[0].get_yticklabels()) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"x": np.zeros((1, 28, 28)), "z": np.zeros(3)},
        {"z": np.zeros(4)},
        {"z": np.zeros((2, 3))},
        {"z": np.array([0.0, np.nan, 0.0])},
        {"dims": [3]},
        {"dims": []},
        {"n": 1},
        {"limit": 0.0},
        {"max_rows": 0},
    ],
)
def test_latent_traversal_bad_input(kwargs):
    with pytest.raises(ValueError, match="Expected"):
        plots.latent_traversal(FakeModel(latent_dim=3), **kwargs)


# -- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolation_path_endpoints(method):
    rng = np.random.default_rng(0)
    z_start, z_end = rng.normal(size=(2, 8))
    path = plots.interpolation_path(z_start, z_end, 7, method)
    assert path.shape == (7, 8)
    np.testing.assert_array_equal(path[0], z_start)
    np.testing.assert_array_equal(path[-1], z_end)


def test_interpolation_path_linear():
    z_start, z_end = np.array([1.0, -2.0, 3.0]), np.array([3.0, 2.0, -1.0])
    path = plots.interpolation_path(z_start, z_end, 5)
    np.testing.assert_allclose(path[2], (z_start + z_end) / 2)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((z_end - z_start) / 4, (4, 1)))


def test_interpolation_path_spherical():
    rng = np.random.default_rng(1)
    z_start, z_end = rng.normal(size=(2, 16))
    z_end *= 3.0
    path = plots.interpolation_path(z_start, z_end, 11, "spherical")
    norms = np.linalg.norm(path, axis=1)
    t = np.linspace(0, 1, 11)
    np.testing.assert_allclose(
        norms, (1 - t) * np.linalg.norm(z_start) + t * np.linalg.norm(z_end), rtol=1e-12
    )
    units = path / norms[:, None]
    steps = np.arccos(np.clip(np.sum(units[1:] * units[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-6)  # constant angular speed
    total = np.arccos(np.dot(z_start, z_end) / np.linalg.norm(z_start) / np.linalg.norm(z_end))
    np.testing.assert_allclose(steps.sum(), total, rtol=1e-9)  # along the shorter great arc
    assert np.all(
        norms[1:-1] > np.linalg.norm(plots.interpolation_path(z_start, z_end, 11)[1:-1], axis=1)
    )
    # in 2-D: the quarter circle from (1, 0) to (0, 1)
    path = plots.interpolation_path(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 3, "spherical")
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)])


@pytest.mark.parametrize(
    "z_start, z_end",
    [
        ([1.0, 2.0], [-2.0, -4.0]),  # antiparallel
        ([1.0, 2.0], [2.0, 4.0]),  # parallel
        ([0.0, 0.0], [2.0, -1.0]),  # a zero code
        ([1.0, 2.0], [0.0, 0.0]),
    ],
)
def test_interpolation_path_spherical_degenerate_is_linear(z_start, z_end):
    spherical = plots.interpolation_path(np.array(z_start), np.array(z_end), 5, "spherical")
    linear = plots.interpolation_path(np.array(z_start), np.array(z_end), 5, "linear")
    assert np.all(np.isfinite(spherical))
    np.testing.assert_allclose(spherical, linear, atol=1e-12)


@pytest.mark.parametrize(
    "z_start, z_end, n, method",
    [
        (np.zeros(3), np.zeros(2), 5, "linear"),
        (np.zeros((2, 3)), np.zeros((2, 3)), 5, "linear"),
        (np.zeros(3), np.zeros(3), 1, "linear"),
        (np.zeros(3), np.zeros(3), 5, "slerp"),
        (np.full(3, np.inf), np.zeros(3), 5, "linear"),
    ],
)
def test_interpolation_path_bad_input(z_start, z_end, n, method):
    with pytest.raises(ValueError, match="Expected"):
        plots.interpolation_path(z_start, z_end, n, method)


def test_interpolation_decodes_both_paths_between_the_codes():
    model = FakeModel(latent_dim=3, image_shape=(784,))
    rng = np.random.default_rng(0)
    x_start, x_end = rng.uniform(size=(2, 1, 784)).astype(np.float32)
    fig = plots.interpolation(model, x_start, x_end, n=5, title="t")
    assert model.encoded[0].shape == (2, 784)
    z_start, z_end = x_start[0, :3] - 0.5, x_end[0, :3] - 0.5
    decoded = model.decoded[0]
    assert decoded.shape == (10, 3)
    np.testing.assert_allclose(decoded[:5], plots.interpolation_path(z_start, z_end, 5), rtol=1e-6)
    np.testing.assert_allclose(
        decoded[5:], plots.interpolation_path(z_start, z_end, 5, "spherical"), rtol=1e-6
    )
    assert [ax.get_ylabel() for ax in fig.axes[::3]] == ["linear", "spherical"]
    assert [image.get_array().shape for image in _images(fig)] == [
        (28, 28),
        (28, 140),
        (28, 28),
    ] * 2
    with pytest.raises(ValueError, match="Expected x_start and x_end of the same shape"):
        plots.interpolation(model, x_start, x_end[:, :400], n=5)
    with pytest.raises(ValueError, match="Expected n"):
        plots.interpolation(model, x_start, x_end, n=1)


# -- a real (untrained) model --------------------------------------------------------------------


def test_plots_of_a_real_rgb_model():
    from vaelib import build_mlp_vae

    model = build_mlp_vae(input_shape=(16, 12, 3), hidden_units=8, latent_dim=3)
    x = np.random.default_rng(0).uniform(size=(4, 16, 12, 3)).astype(np.float32)
    (_, recon) = _images(plots.reconstructions(model, x, n=2))
    assert recon.get_array().shape == (16, 24, 3)
    (image,) = _images(plots.latent_traversal(model, x=x[:1], n=4))
    assert image.get_array().shape == (3 * 16, 4 * 12, 3)
    fig = plots.interpolation(model, x[0], x[1], n=4)
    assert _images(fig)[1].get_array().shape == (16, 48, 3)
    (image,) = _images(plots.decoded_grid(model, n=3, dims=(0, 2)))
    assert image.get_array().shape == (48, 36, 3)
