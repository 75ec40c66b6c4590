function (id) {
  "use strict";
  // vaelib's latent explorer. Everything it needs is in the JSON block beside this script
  // (written by vaelib.web.latent_explorer): no request is made, no kernel is needed.
  const root = document.getElementById(id);
  const data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);

  // ---- decoding -----------------------------------------------------------------------
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const floats = (b64) => new Float32Array(bytes(b64).buffer);
  async function inflate(b64) {  // zlib-compressed bytes
    const stream = new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  function varints(raw, count) {  // LEB128 varints of zigzag codes -> signed integers
    const out = new Int32Array(count);
    let k = 0, z = 0, shift = 0;
    for (const byte of raw) {
      z += (byte & 127) * 2 ** shift;
      if (byte & 128) { shift += 7; continue; }
      out[k++] = z % 2 ? -(z + 1) / 2 : z / 2;
      z = 0;
      shift = 0;
    }
    if (k !== count || shift !== 0) throw new Error(`expected ${count} weights, found ${k}`);
    return out;
  }
  const sigmoid = (v) => 1 / (1 + Math.exp(-v));
  const activations = {
    linear: (v) => v,
    relu: (v) => (v > 0 ? v : 0),
    leaky_relu: (v) => (v > 0 ? v : 0.2 * v),
    tanh: Math.tanh,
    sigmoid,
  };
  const outputs = {  // the likelihood's mean of the last layer's outputs
    sigmoid,
    identity: (v) => v,
    cb_mean: (l) => (Math.abs(l) < 0.1 ? 0.5 + l / 12 - (l * l * l) / 720
      : sigmoid(l) / Math.tanh(l / 2) - 1 / l),
  };

  // One dense layer: out_j = act(scale_j * sum_i (inputScale_i * h_i) * q[j, i] + bias_j), with
  // q (units x inputs, one unit's weights together) in integers, or float32 with scales of 1.
  function decode(model, z) {
    let h = Float32Array.from(z);
    for (const layer of model.layers) {
      const scaled = new Float32Array(layer.inputs);
      const used = [];  // inputs that are not zero (ReLU units off add nothing)
      for (let i = 0; i < layer.inputs; i++) {
        scaled[i] = h[i] * layer.inputScale[i];
        if (scaled[i] !== 0) used.push(i);
      }
      const out = new Float32Array(layer.units);
      const f = activations[layer.activation];
      for (let j = 0; j < layer.units; j++) {
        const row = j * layer.inputs;
        let sum = 0;
        for (const i of used) sum += scaled[i] * layer.q[row + i];
        out[j] = f(sum * layer.scale[j] + layer.bias[j]);
      }
      h = out;
    }
    const g = outputs[model.output];
    for (let j = 0; j < h.length; j++) h[j] = g(h[j]);
    return h;
  }

  // ---- the page -------------------------------------------------------------------------
  const el = (tag, style, text) => {
    const node = document.createElement(tag);
    if (style) node.style.cssText = style;
    if (text) node.textContent = text;
    return node;
  };
  root.style.cssText = "font:14px/1.4 system-ui,sans-serif;max-width:560px;margin:0.5em 0";
  const buttons = el("div", "display:flex;flex-wrap:wrap;gap:4px;margin-bottom:6px");
  const row = el("div", "display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start");
  const plane = el("canvas", "width:min(320px,100%);aspect-ratio:1;touch-action:none;"
    + "border:1px solid #ccc;cursor:crosshair;outline-offset:2px");
  plane.tabIndex = 0;
  plane.setAttribute("aria-label", "latent plane: move the pointer or use the arrow keys");
  const side = el("div", "display:flex;flex-direction:column;gap:6px");
  const image = el("canvas", "width:160px;image-rendering:pixelated;border:1px solid #ccc");
  const readout = el("div", "font-variant-numeric:tabular-nums");
  readout.className = "vaelib-explorer-readout";
  const legend = el("div", "font-size:12px;max-width:200px");
  side.append(image, readout, legend);
  row.append(plane, side);
  root.append(buttons, row);

  const [height, width, channels = 1] = data.models[0].image_shape;
  image.width = width;
  image.height = height;
  const pixels = image.getContext("2d").createImageData(width, height);
  const state = { model: 0, z: [0, 0], lastMs: 0 };

  function drawPlane() {
    const model = data.models[state.model];
    const size = plane.clientWidth * (window.devicePixelRatio || 1) || 320;
    plane.width = plane.height = size;
    const ctx = plane.getContext("2d");
    const range = model.range;
    const toPx = (v) => ((v + range) / (2 * range)) * size;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "#ddd";
    ctx.beginPath();
    ctx.moveTo(toPx(0), 0); ctx.lineTo(toPx(0), size);
    ctx.moveTo(0, toPx(0)); ctx.lineTo(size, toPx(0));
    ctx.stroke();
    for (let i = 0; i < model.codes.length / 2; i++) {
      const label = data.labels ? data.labels[i] : -1;
      ctx.fillStyle = label >= 0 ? data.palette[label % data.palette.length] : "#555";
      ctx.fillRect(toPx(model.codes[2 * i]) - 1, toPx(-model.codes[2 * i + 1]) - 1, 2.5, 2.5);
    }
    ctx.strokeStyle = "#000";
    ctx.setLineDash([4, 3]);
    for (const radius of [1, 2]) {  // the prior N(0, I): 1 and 2 standard deviations
      ctx.beginPath();
      ctx.arc(toPx(0), toPx(0), (radius / (2 * range)) * size, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    // The plane's extent differs between models (each shows its own codes): say it.
    const extent = `both axes from ${(-range).toFixed(1)} to ${range.toFixed(1)}`;
    const fontPx = Math.round(size / 28);
    ctx.font = `${fontPx}px system-ui,sans-serif`;
    ctx.fillStyle = "rgba(255,255,255,0.8)";
    ctx.fillRect(0, size - fontPx - 8, ctx.measureText(extent).width + 8, fontPx + 8);
    ctx.fillStyle = "#555";
    ctx.fillText(extent, 4, size - 6);
    const [cx, cy] = [toPx(state.z[0]), toPx(-state.z[1])];
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx - 9, cy); ctx.lineTo(cx + 9, cy);
    ctx.moveTo(cx, cy - 9); ctx.lineTo(cx, cy + 9);
    ctx.stroke();
  }

  function drawImage() {
    const start = performance.now();
    const values = decode(data.models[state.model], state.z);
    state.lastMs = performance.now() - start;
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) {
        const v = values[p * channels + (channels === 3 ? c : 0)];
        pixels.data[4 * p + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
      pixels.data[4 * p + 3] = 255;
    }
    image.getContext("2d").putImageData(pixels, 0, 0);
    const name = data.models[state.model].name;
    readout.textContent = `${name}: z = (${state.z[0].toFixed(2)}, ${state.z[1].toFixed(2)})`;
  }

  function update() {
    drawPlane();
    drawImage();
  }

  // The cursor stays in the square the model's export was checked on (its pixels within the
  // export's error bound there).
  function clamp(z) {
    const range = data.models[state.model].range;
    return z.map((v) => Math.min(range, Math.max(-range, v)));
  }

  function select(index) {  // another model: the cursor keeps its place (within the new square)
    state.model = index;
    state.z = clamp(state.z);
    buttons.querySelectorAll("button").forEach((b, i) => {  // the selected model stands out
      b.setAttribute("aria-pressed", i === index);
      b.style.background = i === index ? "#333" : "#f6f6f6";
      b.style.color = i === index ? "#fff" : "#000";
    });
    update();
  }

  function pointAt(event) {
    const box = plane.getBoundingClientRect();
    const range = data.models[state.model].range;
    state.z = clamp([((event.clientX - box.left) / box.width) * 2 * range - range,
      range - ((event.clientY - box.top) / box.height) * 2 * range]);
    update();
  }
  plane.addEventListener("pointerdown", (e) => { plane.setPointerCapture(e.pointerId); pointAt(e); });
  plane.addEventListener("pointermove", (e) => { if (e.pointerType === "mouse" || e.buttons) pointAt(e); });
  plane.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!moves[e.key]) return;
    e.preventDefault();
    const step = (data.models[state.model].range / 40) * (e.shiftKey ? 5 : 1);
    state.z = clamp([state.z[0] + moves[e.key][0] * step, state.z[1] + moves[e.key][1] * step]);
    update();
  });

  data.models.forEach((model, index) => {
    const button = el("button", "padding:2px 8px;border:1px solid #888;border-radius:3px;"
      + "background:#f6f6f6;cursor:pointer", model.name);
    button.addEventListener("click", () => select(index));
    buttons.append(button);
  });
  if (data.classes) {
    legend.innerHTML = data.classes.map((name, i) => `<span style="white-space:nowrap">`
      + `<span style="color:${data.palette[i % data.palette.length]}">&#9679;</span> `
      + `${name.replace(/</g, "&lt;")}</span>`).join(" ");
  }

  // Weights are inflated once; then the widget draws and the test hook is ready.
  const ready = (async () => {
    for (const model of data.models) {
      model.codes = Float32Array.from(new Int16Array(bytes(model.codes).buffer),
        (v) => v * model.code_scale);
      for (const layer of model.layers) {  // model.range: the square the export was checked on
        layer.q = layer.dtype === "float32" ? floats(layer.weights)
          : varints(await inflate(layer.weights), layer.inputs * layer.units);
        layer.scale = floats(layer.scale);
        layer.inputScale = floats(layer.input_scale);
        layer.bias = floats(layer.bias);
      }
    }
    select(0);
    window.addEventListener("resize", drawPlane);
  })().catch((error) => {
    root.append(el("p", "color:#b00", `The explorer could not start: ${error.message}`));
    throw error;
  });

  // A handle for the book's browser check (and for the curious, in the console).
  window.vaelibExplorers = window.vaelibExplorers || {};
  window.vaelibExplorers[id] = {
    ready,
    state,
    select,
    decode: (index, z) => Array.from(decode(data.models[index], z)),
    range: () => data.models[state.model].range,
    timeDecode(count) {
      const start = performance.now();
      for (let k = 0; k < count; k++) decode(data.models[state.model], [k / count, -k / count]);
      return (performance.now() - start) / count;
    },
    pixels: () => Array.from(image.getContext("2d").getImageData(0, 0, width, height).data),
  };
}
