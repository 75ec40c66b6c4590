"""The latent space in the reader's hands: decoders exported for the browser, and a widget.

`export_decoder` turns an MLP decoder into a compact description: for each dense layer its
activation, its biases, and its weights: small layers in float32; large ones rounded to integers
with a scale per output unit and per input (zlib-compressed varints in base64), the last layer
unit by unit with as few bits as keep its output within a set error where the explorer looks,
the others with 8 bits.
`decode_exported` is the same arithmetic in NumPy, the reference the browser's JavaScript
(``explorer.js``, beside this file) is checked against. `latent_explorer` returns a
self-contained HTML widget (no server, no kernel, nothing fetched): the test set's codes
coloured by label, the prior's 1- and 2-sigma circles, a cursor moved with the mouse, a finger
or the arrow keys, and the image the decoder draws at the cursor, computed live in the page,
with one button per model (e.g. per beta).
"""

from __future__ import annotations

import base64
import html
import json
import uuid
import zlib
from collections.abc import Mapping
from importlib import resources

import keras
import numpy as np

from vaelib import _checks, likelihoods

ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "leaky_relu")
OUTPUTS = {"bernoulli": "sigmoid", "continuous_bernoulli": "cb_mean", "gaussian": "identity"}
_KINDS = {output: kind for kind, output in OUTPUTS.items()}  # the JS name -> the likelihood
_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def _b64(array: np.ndarray, compress: bool = False) -> str:
    raw = np.ascontiguousarray(array).tobytes()
    return base64.b64encode(zlib.compress(raw, 9) if compress else raw).decode("ascii")


def _unb64(text: str, dtype, compressed: bool = False) -> np.ndarray:
    raw = base64.b64decode(text)
    return np.frombuffer(zlib.decompress(raw) if compressed else raw, dtype=dtype)


def _activation_name(layer) -> str:
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Expected dense layers with an activation in {ACTIVATIONS}. "
            f"Received: layer {layer.name!r} with activation {name!r}"
        )
    return name


SMALL_LAYER = 8192  # layers with at most this many weights are stored in float32, exactly
HIDDEN_BITS = 8  # bits per weight of large layers before the last (the book's decoders have none)


def _to_varints(q: np.ndarray) -> bytes:
    """Signed integers as LEB128 varints of their zigzag codes (0, -1, 1, -2, ... -> 0, 1, 2, 3,
    ...): one byte for -64 <= q < 64, two bytes up to 8191 in size, and so on."""
    z = np.asarray(q, dtype="int64").ravel()
    z = np.where(z >= 0, 2 * z, -2 * z - 1)
    length = np.ones(len(z), dtype="int64")
    while np.any(z >> (7 * length)):
        length += (z >> (7 * length)) > 0
    starts = np.concatenate([[0], np.cumsum(length)[:-1]])
    out = np.empty(int(length.sum()), dtype="uint8")
    for g in range(int(length.max(initial=1))):
        has = length > g
        more = np.where(length[has] > g + 1, 128, 0)
        out[starts[has] + g] = ((z[has] >> (7 * g)) & 127) | more
    return out.tobytes()


def _from_varints(raw: bytes) -> np.ndarray:
    """The inverse of `_to_varints`, as int64."""
    data = np.frombuffer(raw, dtype="uint8").astype("int64")
    ends = data < 128
    value = np.concatenate([[0], np.cumsum(ends)[:-1]])
    starts = np.concatenate([[0], np.flatnonzero(ends)[:-1] + 1])
    shift = 7 * (np.arange(len(data)) - starts[value])
    z = np.zeros(int(ends.sum()), dtype="int64")
    np.add.at(z, value, (data & 127) << shift)
    return (z >> 1) ^ -(z & 1)


def _compensated_rounding(kernel, scale, levels, layer_inputs):
    """Round ``kernel`` (inputs x units) to integer multiples of ``scale`` (one per unit), one
    input row at a time, pushing each row's rounding error onto the rows not yet rounded (as
    GPTQ does).

    The weights of the push come from the inverse of ``X^T X`` for the layer's inputs X on
    calibration codes, so the layer's outputs on those inputs move as little as possible: much
    less than with plain rounding when the inputs are correlated, as the hidden units of a
    decoder with a 2-D latent are.
    """
    weights = kernel.astype("float64").copy()
    x = np.asarray(layer_inputs, dtype="float64")
    hessian = x.T @ x / len(x)
    hessian += np.eye(len(hessian)) * (0.01 * np.mean(np.diag(hessian)) + 1e-8)
    upper = np.linalg.cholesky(np.linalg.inv(hessian)).T  # H^-1 = U^T U, U upper triangular
    rounded = np.empty(weights.shape, dtype="int64")
    for i in range(len(weights)):
        rounded[i] = np.clip(np.round(weights[i] / scale), -levels, levels)
        error = (weights[i] - rounded[i] * scale) / upper[i, i]
        weights[i + 1 :] -= np.outer(upper[i, i + 1 :], error)
    return rounded


def view_range(codes) -> float:
    """Half-width of the latent square the explorer shows: the prior's 3.5 standard deviations,
    or 1.1 times the 99th percentile of the codes' absolute values if that is wider."""
    if codes is None:
        return 3.5
    return max(3.5, 1.1 * float(np.quantile(np.abs(np.asarray(codes, dtype="float64")), 0.99)))


def _calibration_codes(latent_dim, codes=None, extent=3.5, seed=0):
    """Codes the decoder will be asked about: draws from the prior, the data's own codes (when
    given), uniform draws over the square the explorer shows, and 64 x 64 grids over that
    square (its corners included) and over the prior's 3.5 standard deviations."""
    rng = np.random.default_rng(seed)
    pieces = [rng.standard_normal((4096, latent_dim))]
    if codes is not None:
        codes = np.asarray(codes, dtype="float64").reshape(-1, latent_dim)
        pieces.append(codes[rng.permutation(len(codes))[:10_000]])
    pieces.append(rng.uniform(-extent, extent, (4096, latent_dim)))
    if latent_dim == 2:
        for half in sorted({extent, 3.5}):
            values = np.linspace(-half, half, 64)
            pieces.append(np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2))
    return np.concatenate(pieces)


def _dense_layers(model) -> list:
    dense = []
    for layer in model.decoder.layers:
        if isinstance(layer, keras.layers.Dense):
            dense.append(layer)
        elif not isinstance(
            layer, keras.layers.InputLayer | keras.layers.Reshape | keras.layers.Flatten
        ):
            raise ValueError(
                "Expected a decoder of Dense, Reshape and Flatten layers (an MLP). Received: "
                f"layer {layer.name!r} of type {type(layer).__name__}"
            )
    if not dense:
        raise ValueError("Expected a decoder with at least one Dense layer. Received: none")
    return dense


def _output_mean(kind: str, values: np.ndarray) -> np.ndarray:
    mean = likelihoods.get(kind).mean(keras.ops.convert_to_tensor(values, dtype="float32"))
    return keras.ops.convert_to_numpy(mean).astype("float64")


def _quantise(kernel, layer_inputs, bits_to_try, accept):
    """Round a layer's kernel per output unit with the fewest bits in ``bits_to_try`` that
    ``accept(quantised_kernel) -> bool per unit`` passes (the most bits where none does).

    The kernel is first balanced against its inputs: input i is multiplied by ``input_scale_i``
    and its row of weights divided by it, so that the inputs' RMS and the rows' largest weights
    meet in the middle (their geometric mean); a unit's step is then its largest balanced weight
    over ``2 ** (bits - 1) - 1``. Inputs that are zero on every calibration code (ReLU units
    off over the whole square) get scale 0 and zero weights.

    Returns:
        ``(q, input_scale, scale, bits)``: ``kernel ≈ input_scale[:, None] * q * scale``.
    """
    x = np.asarray(layer_inputs, dtype="float64")
    rms = np.sqrt(np.mean(x**2, axis=0))
    largest = np.max(np.abs(kernel), axis=1)
    dead = rms == 0  # rows of zero weights with live inputs are rounded as the others are
    plain = dead | (largest == 0)
    balance = np.where(plain, 1.0, np.sqrt(rms / np.where(plain, 1.0, largest)))
    balanced = np.where(dead[:, None], 0.0, kernel * balance[:, None])
    inputs = x / balance
    q = np.zeros(kernel.shape, dtype="int64")
    scale = np.ones(kernel.shape[1])
    bits = np.zeros(kernel.shape[1], dtype="int64")
    for b in bits_to_try:
        levels = 2 ** (b - 1) - 1
        step = np.max(np.abs(balanced), axis=0) / levels
        step = np.where(step > 0, step, 1.0)
        rounded = _compensated_rounding(balanced, step, levels, inputs)
        take = bits == 0
        if b != bits_to_try[-1]:
            take &= accept(rounded * step / balance[:, None])
        q[:, take], scale[take], bits[take] = rounded[:, take], step[take], b
        if bits.all():
            break
    return q, np.where(dead, 0.0, 1.0 / balance), scale, bits


def _within(max_error, target, inputs, activation, bias, kind):
    """A test of a candidate last-layer kernel: per unit, is its output (the likelihood's mean)
    within ``max_error`` of ``target`` on ``inputs``?"""

    def accept(kernel):
        out = _output_mean(kind, _apply(activation, inputs @ kernel + bias))
        return np.max(np.abs(out - target), axis=0) <= max_error

    return accept


def export_decoder(
    model, max_error: float | None = 0.005, codes=None, *, max_bits: int = 12, extent=None
) -> dict:
    """An MLP decoder as a JSON-ready dict of quantised layers, accurate where it is looked at.

    The last layer's weights are rounded unit by unit (one output unit: one pixel and channel)
    to the fewest bits, 2 to ``max_bits``, for which that unit's output (the likelihood's mean,
    e.g. a grey level) stays within ``max_error`` of the model's on calibration codes: draws
    from the prior, the data's ``codes``, and the latent square of half-width ``extent``. A
    pixel that is black wherever the explorer looks needs few bits, one on the strokes more
    (chapter 4's MNIST decoders: 3.3 to 8.4 bits per weight on average). The rounding
    compensates its own errors on those codes (`_compensated_rounding`) and is
    balanced against each input's size (`_quantise`). Layers with at most 8192 weights (the
    first one of a 2-D latent) stay float32; other large layers get 8 bits.

    The integers are stored as zigzag varints (one byte for most, two for the finest units)
    compressed by zlib and written in base64. The accuracy holds on the calibration codes; the
    explorer's check measures it in the browser at other codes.

    Args:
        model: a `VAE` whose decoder is made of ``Dense`` layers (plus ``Reshape``/``Flatten``),
            e.g. from `vaelib.mlp_decoder`.
        max_error: largest error of an output allowed on the calibration codes (in the
            likelihood's mean: 0.005 is 1.3 of 255 grey levels). ``None``: every unit gets
            ``max_bits``.
        codes: optional codes of the data (posterior means); the rounding is checked on them.
        max_bits: most bits per weight, 2 to 16.
        extent: half-width of the latent square checked; by default `view_range(codes)`, the
            square the explorer shows.

    Returns:
        ``{"latent_dim", "image_shape", "output", "range", "layers": [...]}``. Each layer
        holds ``inputs``, ``units``, ``activation``, ``dtype`` (``"int"`` or ``"float32"``),
        ``bias``, ``scale`` (per unit) and ``input_scale`` (per input), float32 in base64,
        ``bits`` (per unit, for the record) and ``weights``: ``units x inputs`` (one unit's
        weights together), varints through zlib then base64, or float32 in base64. A layer
        computes ``act(scale_j * sum_i (input_scale_i * h_i) * w_ji + bias_j)``.
    """
    max_bits = _checks.check_int("max_bits", max_bits, minimum=2)
    if max_bits > 16:
        raise ValueError(f"Expected max_bits <= 16. Received: max_bits={max_bits}")
    if max_error is not None and not (np.isfinite(max_error) and max_error > 0):
        raise ValueError(f"Expected max_error > 0 or None. Received: max_error={max_error!r}")
    dense = _dense_layers(model)
    latent_dim = int(dense[0].get_weights()[0].shape[0])
    extent = view_range(codes) if extent is None else float(extent)
    values = _calibration_codes(latent_dim, codes, extent)
    kind = model.likelihood.kind
    exact = values
    for layer in dense:
        kernel, bias = (np.asarray(w, dtype="float64") for w in layer.get_weights())
        exact = _apply(_activation_name(layer), exact @ kernel + bias)
    target = _output_mean(kind, exact)
    layers = []
    for index, layer in enumerate(dense):
        kernel, bias = (np.asarray(w, dtype="float32") for w in layer.get_weights())
        kernel64, bias64 = kernel.astype("float64"), bias.astype("float64")
        activation = _activation_name(layer)
        entry = {
            "inputs": int(kernel.shape[0]),
            "units": int(kernel.shape[1]),
            "activation": activation,
            "bias": _b64(bias),
        }
        if kernel.size <= SMALL_LAYER:
            weights = kernel64
            ones = np.ones(kernel.shape[1], "float32")
            entry.update(dtype="float32", scale=_b64(ones), bits=[32] * kernel.shape[1])
            entry.update(input_scale=_b64(np.ones(kernel.shape[0], "float32")))
            entry["weights"] = _b64(np.ascontiguousarray(kernel.T))
        else:
            last = index == len(dense) - 1
            if last and max_error is not None:
                accept = _within(max_error, target, values, activation, bias64, kind)
                bits_to_try = list(range(2, max_bits + 1))
            else:
                bits_to_try = [max_bits if last else min(max_bits, HIDDEN_BITS)]
                accept = None
            q, input_scale, scale, bits = _quantise(kernel64, values, bits_to_try, accept)
            input_scale, scale = input_scale.astype("float32"), scale.astype("float32")
            weights = input_scale.astype("float64")[:, None] * q * scale.astype("float64")
            raw = zlib.compress(_to_varints(np.ascontiguousarray(q.T)), 9)
            entry.update(dtype="int", scale=_b64(scale), input_scale=_b64(input_scale))
            entry.update(bits=bits.tolist(), weights=base64.b64encode(raw).decode("ascii"))
        layers.append(entry)
        values = _apply(activation, values @ weights + bias64)
    image_shape = tuple(int(d) for d in model.decoder.outputs[0].shape[1:])
    if len(image_shape) == 1:
        side = int(round(image_shape[0] ** 0.5))
        image_shape = (side, side) if side * side == image_shape[0] else (1, image_shape[0])
    return {
        "latent_dim": latent_dim,
        "image_shape": list(image_shape),
        "output": OUTPUTS.get(kind, "identity"),
        "range": extent,
        "layers": layers,
    }


def exported_weights(layer: dict) -> np.ndarray:
    """The ``inputs x units`` kernel an exported layer stands for (float64)."""
    shape = (layer["units"], layer["inputs"])
    if layer["dtype"] == "float32":
        return _unb64(layer["weights"], "float32").astype("float64").reshape(shape).T
    q = _from_varints(zlib.decompress(base64.b64decode(layer["weights"]))).reshape(shape).T
    scale = _unb64(layer["scale"], "float32").astype("float64")
    input_scale = _unb64(layer["input_scale"], "float32").astype("float64")
    return input_scale[:, None] * q * scale


def _apply(name: str, values: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(values, 0.0)
    if name == "leaky_relu":
        return np.where(values > 0, values, 0.2 * values)
    if name == "tanh":
        return np.tanh(values)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-values))
    return values


def decode_exported(spec: dict, z: np.ndarray) -> np.ndarray:
    """Decode codes ``(n, latent_dim)`` with an exported decoder, as the browser does.

    Returns:
        Images ``(n, *image_shape)`` in float64: the likelihood's mean, as `VAE.decode` gives.
    """
    values = np.asarray(z, dtype="float64").reshape(-1, spec["latent_dim"])
    for layer in spec["layers"]:
        bias = _unb64(layer["bias"], "float32").astype("float64")
        values = _apply(layer["activation"], values @ exported_weights(layer) + bias)
    values = _output_mean(_KINDS[spec["output"]], values)
    return values.reshape(len(values), *spec["image_shape"])


class LatentExplorer:
    """A self-contained HTML widget; shown by Jupyter (``_repr_html_``) and `save`-able.

    Attributes:
        html: the widget's HTML, with its data and script inline.
        num_bytes: its size in bytes (UTF-8).
        specs: model name -> its exported decoder (`export_decoder`); the page holds the same,
            less each layer's record of bits.
    """

    def __init__(self, html_text: str, specs: dict | None = None):
        self.html = html_text
        self.num_bytes = len(html_text.encode("utf-8"))
        self.specs = dict(specs or {})

    def _repr_html_(self) -> str:
        return self.html

    def save(self, path) -> str:
        """Write a complete HTML page holding the widget; returns the path."""
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>vaelib latent explorer</title></head><body>{self.html}</body></html>"
        )
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(page)
        return str(path)


def latent_explorer(
    models: Mapping,
    x,
    labels=None,
    *,
    class_names=None,
    num_points: int = 1000,
    seed: int = 0,
    title: str | None = None,
    max_error: float | None = 0.005,
) -> LatentExplorer:
    """An interactive decoder: point at the latent plane and see what each model draws there.

    Args:
        models: label -> trained `VAE` with a 2-D latent and an MLP decoder, e.g.
            ``{"β = 0": model_0, "β = 1": model_1}``; one button per entry.
        x: data whose codes (posterior means) are drawn as the scatter.
        labels: optional int labels of ``x`` (colours of the scatter).
        class_names: optional names of the labels, shown in the legend.
        num_points: codes drawn per model (a random subset of ``x``).
        seed: seed of that subset.
        title: optional caption.
        max_error: largest error of a decoded pixel allowed in the explorer's square (on
            calibration codes; see `export_decoder`).

    Returns:
        A `LatentExplorer`; in a notebook, a cell that ends with it shows the widget.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"Expected a dict label -> model. Received: models={models!r}")
    num_points = _checks.check_positive_int("num_points", num_points)
    x = np.asarray(x)
    rng = np.random.default_rng(_checks.check_seed(seed))
    rows = np.sort(rng.choice(len(x), size=min(num_points, len(x)), replace=False))
    entries, specs = [], {}
    for name, model in models.items():
        if model.latent_dim != 2:
            raise ValueError(
                f"Expected models with a 2-D latent. Received: {name!r} with "
                f"latent_dim={model.latent_dim}"
            )
        z_mean = model.encode(x)[0]
        spec = export_decoder(model, max_error, codes=z_mean)
        specs[str(name)] = spec
        # The scatter's codes as int16 steps of code_scale: |z| up to 4 * range is kept (the
        # plane shows |z| <= range).
        code_scale = 4.0 * spec["range"] / 32767
        steps = np.round(np.clip(z_mean[rows] / code_scale, -32767, 32767))
        layers = [{k: v for k, v in layer.items() if k != "bits"} for layer in spec["layers"]]
        entries.append(
            {
                "name": str(name),
                **spec,
                "layers": layers,
                "codes": _b64(steps.astype("int16")),
                "code_scale": code_scale,
            }
        )
    data = {"models": entries, "title": title or ""}
    if labels is not None:
        labels = np.asarray(labels)[rows].astype("int64")
        names = [str(n) for n in (class_names or range(int(labels.max()) + 1))]
        data.update(labels=labels.tolist(), classes=names, palette=list(_PALETTE))
    widget_id = "vaelib-explorer-" + uuid.UUID(int=int(rng.integers(2**63))).hex[:12]
    script = resources.files("vaelib").joinpath("explorer.js").read_text(encoding="utf-8")
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    caption = f"<p class='vaelib-explorer-title'>{html.escape(title)}</p>" if title else ""
    text = (
        f'<div id="{widget_id}" class="vaelib-explorer">{caption}'
        f'<script type="application/json">{payload}</script>'
        f"<script>({script.strip()})({json.dumps(widget_id)});</script></div>"
    )
    return LatentExplorer(text, specs)
