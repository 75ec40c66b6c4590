"""The latent space in the reader's hands: decoders exported for the browser, and a widget.

`export_decoder` turns an MLP decoder into a compact description: for each dense layer its
activation, its weights rounded to a few bits with one scale per output unit (in int8,
compressed with zlib, then base64; small layers in float32), and its biases as float32.
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


def _compensated_rounding(kernel, scale, levels, layer_inputs):
    """Round ``kernel`` (inputs x units) to integer multiples of ``scale``, one input row at a
    time, pushing each row's rounding error onto the rows not yet rounded (as GPTQ does).

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
    rounded = np.empty(weights.shape, dtype="int8")
    for i in range(len(weights)):
        rounded[i] = np.clip(np.round(weights[i] / scale), -levels, levels)
        error = (weights[i] - rounded[i] * scale) / upper[i, i]
        weights[i + 1 :] -= np.outer(upper[i, i + 1 :], error)
    return rounded


def _calibration_codes(latent_dim, codes=None, seed=0):
    """Codes the decoder will be asked about: draws from the prior, from the square the explorer
    shows, and the data's own codes when given."""
    rng = np.random.default_rng(seed)
    pieces = [rng.standard_normal((4096, latent_dim))]
    extent = 3.5
    if codes is not None:
        codes = np.asarray(codes, dtype="float64")
        extent = max(3.5, 1.1 * float(np.quantile(np.abs(codes), 0.99)))
        pieces.append(codes)
    pieces.append(rng.uniform(-extent, extent, (4096, latent_dim)))
    return np.concatenate(pieces)


def export_decoder(model, bits: int = 4, codes=None) -> dict:
    """An MLP decoder as a JSON-ready dict of quantised layers.

    Each weight of a large layer is one of ``2 ** bits - 1`` levels, symmetric around 0, with
    one scale per output unit (its largest weight in absolute value), stored in an int8 and
    packed by zlib close to the entropy of the levels. The rounding compensates its own errors
    on calibration codes (see `_compensated_rounding`), layer after layer on the outputs of the
    layers already rounded. Small layers (such as the first one of a 2-D latent) stay float32.

    Args:
        model: a `VAE` whose decoder is made of ``Dense`` layers (plus ``Reshape``/``Flatten``),
            e.g. from `vaelib.mlp_decoder`.
        bits: bits per weight, 2 to 8. With the compensated rounding, 4 keeps the pixel error
            of the book's MNIST decoders under 0.01 at about a third of the 8-bit size.
        codes: optional codes of the data (posterior means); the rounding is tuned for them,
            for draws from the prior, and for the square the explorer shows.

    Returns:
        ``{"latent_dim", "image_shape", "output", "layers": [...]}``; each layer holds
        ``inputs``, ``units``, ``activation``, ``dtype`` (``"int8"`` or ``"float32"``),
        ``scale`` and ``bias`` (float32, base64) and ``weights`` (``inputs x units`` row-major:
        int8 through zlib then base64, or float32 base64).
    """
    bits = _checks.check_int("bits", bits, minimum=2)
    if bits > 8:
        raise ValueError(f"Expected bits <= 8. Received: bits={bits}")
    levels = 2 ** (bits - 1) - 1
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
    values = _calibration_codes(dense[0].get_weights()[0].shape[0], codes)
    layers = []
    for layer in dense:
        kernel, bias = (np.asarray(w, dtype="float32") for w in layer.get_weights())
        entry = {
            "inputs": int(kernel.shape[0]),
            "units": int(kernel.shape[1]),
            "activation": _activation_name(layer),
            "bias": _b64(bias),
        }
        if kernel.size <= SMALL_LAYER:
            weights = kernel.astype("float64")
            entry.update(dtype="float32", scale=_b64(np.ones(kernel.shape[1], "float32")))
            entry["weights"] = _b64(kernel)
        else:
            scale = np.max(np.abs(kernel), axis=0) / levels
            scale = np.where(scale > 0, scale, 1.0).astype("float32")
            rounded = _compensated_rounding(kernel, scale, levels, values)
            weights = rounded * scale.astype("float64")
            entry.update(dtype="int8", scale=_b64(scale), weights=_b64(rounded, compress=True))
        layers.append(entry)
        values = _apply(entry["activation"], values @ weights + bias)
    image_shape = tuple(int(d) for d in model.decoder.outputs[0].shape[1:])
    if len(image_shape) == 1:
        side = int(round(image_shape[0] ** 0.5))
        image_shape = (side, side) if side * side == image_shape[0] else (1, image_shape[0])
    return {
        "latent_dim": int(layers[0]["inputs"]),
        "image_shape": list(image_shape),
        "output": OUTPUTS.get(model.likelihood.kind, "identity"),
        "layers": layers,
    }


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
        if layer["dtype"] == "float32":
            weights = _unb64(layer["weights"], "float32").astype("float64")
        else:
            weights = _unb64(layer["weights"], "int8", compressed=True).astype("float64")
        weights = weights.reshape(layer["inputs"], layer["units"])
        scale = _unb64(layer["scale"], "float32").astype("float64")
        bias = _unb64(layer["bias"], "float32").astype("float64")
        values = _apply(layer["activation"], (values @ weights) * scale + bias)
    values = keras.ops.convert_to_numpy(likelihoods.get(_KINDS[spec["output"]]).mean(values))
    return values.reshape(len(values), *spec["image_shape"])


class LatentExplorer:
    """A self-contained HTML widget; shown by Jupyter (``_repr_html_``) and `save`-able.

    Attributes:
        html: the widget's HTML, with its data and script inline.
        num_bytes: its size in bytes (UTF-8).
    """

    def __init__(self, html_text: str):
        self.html = html_text
        self.num_bytes = len(html_text.encode("utf-8"))

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
    bits: int = 4,
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
        bits: bits per weight of the exported decoders (see `export_decoder`).

    Returns:
        A `LatentExplorer`; in a notebook, a cell that ends with it shows the widget.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"Expected a dict label -> model. Received: models={models!r}")
    num_points = _checks.check_positive_int("num_points", num_points)
    x = np.asarray(x)
    rng = np.random.default_rng(_checks.check_seed(seed))
    rows = np.sort(rng.choice(len(x), size=min(num_points, len(x)), replace=False))
    entries = []
    for name, model in models.items():
        if model.latent_dim != 2:
            raise ValueError(
                f"Expected models with a 2-D latent. Received: {name!r} with "
                f"latent_dim={model.latent_dim}"
            )
        z_mean = model.encode(x[rows])[0].astype("float32")
        spec = export_decoder(model, bits, codes=model.encode(x)[0])
        entries.append({"name": str(name), "codes": _b64(z_mean), **spec})
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
    return LatentExplorer(text)
