// invariance explore: the page. Plain JavaScript, no libraries; talks only to its own server.
"use strict";

const MAX_SIDE = 1600;  // larger results are shown shrunk (the pipeline runs at full size)
const BUDGET_MS = 1000;  // the page's time budget: a change is re-rendered (view and grid) within it
const DEBOUNCE_MS = 120;  // while a slider moves, render at most this often
const TILE_SIDE = 256;
const state = { session: "sample", catalogue: [], details: {}, pipeline: [], selected: -1, seed: 0, busy: 0, version: 0,
  panels: 0, policy: null, tiles: [] };
const $ = (id) => document.getElementById(id);

function status(text, error) {
  $("status").textContent = text || "";
  $("status").className = error ? "error" : "";
}

async function api(method, url, body, raw) {
  const options = { method: method, headers: {} };
  if (body !== undefined) {
    if (raw) { options.body = body; options.headers["Content-Type"] = "application/octet-stream"; }
    else { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
  }
  const response = await fetch(url, options);
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail));
  return data;
}

async function details(name) {
  if (!state.details[name]) state.details[name] = await api("GET", "/api/transforms/" + encodeURIComponent(name));
  return state.details[name];
}

// ---- catalogue -------------------------------------------------------------------------------
function drawCatalogue() {
  const query = $("search").value.trim().toLowerCase();
  const root = $("catalogue");
  root.textContent = "";
  const families = {};
  for (const entry of state.catalogue) {
    const text = (entry.name + " " + entry.family + " " + entry.summary).toLowerCase();
    if (query && !text.includes(query)) continue;
    (families[entry.family] = families[entry.family] || []).push(entry);
  }
  for (const family of Object.keys(families).sort()) {
    const box = document.createElement("div");
    box.className = "family";
    const title = document.createElement("h3");
    title.textContent = family + " (" + families[family].length + ")";
    box.appendChild(title);
    for (const entry of families[family]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.name = entry.name;
      button.title = entry.summary;
      button.textContent = entry.name;
      if (entry.needs_metadata) {
        button.className = "meta";
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "needs metadata";
        button.appendChild(tag);
      }
      button.addEventListener("click", () => addStep(entry.name));
      box.appendChild(button);
    }
    root.appendChild(box);
  }
}

// ---- pipeline --------------------------------------------------------------------------------
async function addStep(name) {
  const info = await details(name);
  if (info.needs_metadata) {
    select(-1);
    showDoc(info, name + " needs metadata (reference images or other samples); it can be read here but not run.");
    return;
  }
  const args = {};
  for (const field of info.fields) if (field.name !== "p" && field.widget !== "readonly") args[field.name] = field.value;
  state.pipeline.push({ name: name, args: args, p: 1 });
  drawPipeline();
  select(state.pipeline.length - 1);
  run();
}

function drawPipeline() {
  const list = $("pipeline");
  list.textContent = "";
  $("pipeline-empty").style.display = state.pipeline.length ? "none" : "";
  state.pipeline.forEach((step, index) => {
    const item = document.createElement("li");
    if (index === state.selected) item.className = "selected";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = step.name;
    name.addEventListener("click", () => select(index));
    const p = document.createElement("input");
    p.type = "number"; p.min = "0"; p.max = "1"; p.step = "0.05"; p.value = step.p; p.title = "probability p";
    p.className = "step-p";
    p.addEventListener("change", () => { step.p = Math.min(1, Math.max(0, parseFloat(p.value) || 0)); run(); });
    const label = document.createElement("label");
    label.textContent = "p";
    label.appendChild(p);
    item.append(name, label, tool("↑", "move up", () => move(index, -1)), tool("↓", "move down", () => move(index, 1)),
      tool("✕", "remove", () => remove(index)));
    list.appendChild(item);
  });
}

function tool(text, title, action) {
  const button = document.createElement("button");
  button.type = "button"; button.textContent = text; button.title = title; button.className = title.replace(" ", "-");
  button.addEventListener("click", action);
  return button;
}

function move(index, delta) {
  const target = index + delta;
  if (target < 0 || target >= state.pipeline.length) return;
  const [step] = state.pipeline.splice(index, 1);
  state.pipeline.splice(target, 0, step);
  if (state.selected === index) state.selected = target;
  drawPipeline();
  run();
}

function remove(index) {
  state.pipeline.splice(index, 1);
  if (state.selected >= state.pipeline.length) state.selected = state.pipeline.length - 1;
  drawPipeline();
  select(state.selected);
  run();
}

// ---- the form, generated from each transform's declared fields -------------------------------
function showDoc(info, note) {
  $("editor-title").textContent = info ? info.name + " (" + info.family + ")" : "";
  $("doc").textContent = info ? (note ? note + "\n\n" : "") + info.doc + "\n\nTargets: " + info.targets.join(", ") : "";
  if (note || !info) $("form").textContent = "";
}

async function select(index) {
  state.selected = index;
  drawPipeline();
  const form = $("form");
  form.textContent = "";
  if (index < 0 || index >= state.pipeline.length) { showDoc(null); return; }
  const step = state.pipeline[index];
  const info = await details(step.name);
  showDoc(info);
  for (const field of info.fields) {
    if (field.name === "p") continue;
    form.appendChild(fieldRow(field, step));
  }
}

// ---- a slider with one or two handles, in plain DOM (no libraries) -----------------------------
// slider({min, max, step}, values, onInput, onChange): values has one number (a single handle) or
// two (low and high, which cannot cross). onInput fires while a handle moves, onChange when it stops.
function decimals(step) {
  const text = String(step);
  return text.includes("e-") ? parseInt(text.split("e-")[1], 10) : (text.split(".")[1] || "").length;
}

function snap(value, bounds) {
  const steps = Math.round((value - bounds.min) / bounds.step);
  const snapped = bounds.min + steps * bounds.step;
  return Number(Math.min(bounds.max, Math.max(bounds.min, snapped)).toFixed(decimals(bounds.step)));
}

function slider(bounds, values, onInput, onChange) {
  const root = document.createElement("div");
  root.className = "slider" + (values.length === 2 ? " two" : "");
  const track = document.createElement("div");
  track.className = "track";
  const fill = document.createElement("div");
  fill.className = "fill";
  track.appendChild(fill);
  root.appendChild(track);
  let current = values.slice();
  const thumbs = current.map((_, index) => {
    const thumb = document.createElement("div");
    thumb.className = "thumb " + (current.length === 2 ? (index === 0 ? "low" : "high") : "only");
    thumb.tabIndex = 0;
    thumb.setAttribute("role", "slider");
    thumb.setAttribute("aria-valuemin", bounds.min);
    thumb.setAttribute("aria-valuemax", bounds.max);
    track.appendChild(thumb);
    return thumb;
  });
  const span = bounds.max - bounds.min || 1;
  const where = (value) => (100 * (Math.min(bounds.max, Math.max(bounds.min, value)) - bounds.min)) / span;
  function draw() {
    thumbs.forEach((thumb, index) => {
      thumb.style.left = where(current[index]) + "%";
      thumb.setAttribute("aria-valuenow", current[index]);
      thumb.title = String(current[index]);
    });
    const low = current.length === 2 ? where(current[0]) : where(Math.max(bounds.min, Math.min(0, bounds.max)));
    const high = where(current[current.length - 1]);
    fill.style.left = Math.min(low, high) + "%";
    fill.style.width = Math.abs(high - low) + "%";
  }
  function put(index, value) {
    value = snap(value, bounds);
    if (current.length === 2) value = index === 0 ? Math.min(value, current[1]) : Math.max(value, current[0]);
    if (value === current[index]) return false;
    current[index] = value;
    draw();
    onInput(current.slice());
    return true;
  }
  function valueAt(clientX) {
    const rect = track.getBoundingClientRect();
    return bounds.min + (span * (clientX - rect.left)) / (rect.width || 1);
  }
  let dragging = -1;
  let moved = false;
  thumbs.forEach((thumb, index) => {
    thumb.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      event.stopPropagation();
      dragging = index; moved = false;
      thumb.setPointerCapture(event.pointerId);
      thumb.focus();
    });
    thumb.addEventListener("pointermove", (event) => {
      if (dragging === index && put(index, valueAt(event.clientX))) moved = true;
    });
    const release = () => {
      if (dragging !== index) return;
      dragging = -1;
      if (moved) onChange(current.slice());
    };
    thumb.addEventListener("pointerup", release);
    thumb.addEventListener("pointercancel", release);
    thumb.addEventListener("keydown", (event) => {
      const big = bounds.step * Math.max(1, Math.round(span / bounds.step / 10));
      const delta = { ArrowLeft: -bounds.step, ArrowDown: -bounds.step, ArrowRight: bounds.step, ArrowUp: bounds.step,
        PageDown: -big, PageUp: big }[event.key];
      let target;
      if (delta !== undefined) target = current[index] + delta;
      else if (event.key === "Home") target = bounds.min;
      else if (event.key === "End") target = bounds.max;
      else return;
      event.preventDefault();
      if (put(index, target)) onChange(current.slice());
    });
  });
  track.addEventListener("pointerdown", (event) => {
    const value = valueAt(event.clientX);
    let index = 0;
    if (current.length === 2) index = Math.abs(value - current[0]) <= Math.abs(value - current[1]) ? 0 : 1;
    if (current.length === 2 && current[0] === current[1]) index = value < current[0] ? 0 : 1;
    if (put(index, value)) onChange(current.slice());
  });
  root.set = (next) => { current = next.slice(); draw(); };
  draw();
  return root;
}

// ---- form fields, generated from each transform's declared fields ------------------------------
function numberInput(value, field, integer, step) {
  const input = document.createElement("input");
  input.type = "number";
  input.step = integer ? "1" : step ? String(step) : "any";
  if (field.min !== undefined) input.min = field.min;
  if (field.max !== undefined) input.max = field.max;
  input.value = value === null || value === undefined ? "" : value;
  return input;
}

function readNumber(input, nullable) {
  if (input.value.trim() === "") { if (nullable) return null; throw new Error("a number is needed"); }
  const value = Number(input.value);
  if (!Number.isFinite(value)) throw new Error("not a number");
  return value;
}

// A slider with number boxes beside it for exact values. ``pair`` is the value ([low, high] or
// [number]); ``commit(values, final)`` stores it. Typing a number outside the slider's bounds is
// allowed (the library validates it); the handle then rests at the end of the track.
function sliderWithBoxes(field, pair, commit) {
  const wrap = document.createElement("div");
  wrap.className = "slider-row";
  const integer = field.widget === "integer" || field.item_type === "integer";
  const bounds = field.slider;
  const boxes = pair.map((value) => numberInput(value, field, integer, bounds ? bounds.step : undefined));
  boxes.forEach((box, index) => { box.className = index === 0 ? "low" : "high"; });
  let control = null;
  if (bounds) {
    control = slider(bounds, pair, (values) => {
      values.forEach((value, index) => { boxes[index].value = value; });
      commit(values, false);
    }, (values) => commit(values, true));
    wrap.appendChild(control);
  }
  boxes.forEach((box) => {
    box.addEventListener("change", () => {
      try {
        const values = boxes.map((b) => readNumber(b, field.nullable && boxes.length === 1));
        if (values.length === 2 && values[0] > values[1]) throw new Error("low is above high");
        boxes.forEach((b) => b.classList.remove("invalid"));
        if (control && values.every((v) => v !== null)) control.set(values);
        commit(values, true);
      } catch (error) {
        boxes.forEach((b) => b.classList.add("invalid"));
        status(field.name + ": " + error.message, true);
      }
    });
    wrap.appendChild(box);
  });
  wrap.set = (values) => {
    values.forEach((value, index) => { boxes[index].value = value; });
    if (control) control.set(values);
  };
  return wrap;
}

function fieldRow(field, step) {
  const row = document.createElement("div");
  row.className = "field";
  const label = document.createElement("label");
  label.textContent = field.name;
  label.title = "default: " + JSON.stringify(field.default);
  const box = document.createElement("div");
  box.dataset.field = field.name;
  box.dataset.widget = field.widget;
  const value = step.args[field.name];
  // store a new value; ``final`` is false while a slider handle is still moving
  const commit = (next, final) => {
    step.args[field.name] = next;
    status("");
    changed(final);
  };
  let inputs = [];
  let read;
  if (field.widget === "readonly") {
    const span = document.createElement("span");
    span.className = "readonly";
    span.textContent = String(field.value) + " (read-only)";
    box.appendChild(span);
  } else if (field.widget === "boolean") {
    const input = document.createElement("input");
    input.type = "checkbox"; input.checked = !!value;
    inputs = [input]; read = () => input.checked;
  } else if (field.widget === "enum") {
    // the declaration's names (INTER_LINEAR, BORDER_REFLECT_101...) are shown; the value is sent
    const input = document.createElement("select");
    const names = field.option_names || field.options.map(String);
    const options = field.nullable ? [[null, "None"]] : [];
    field.options.forEach((option, index) => options.push([option, names[index]]));
    for (const [option, name] of options) {
      const element = document.createElement("option");
      element.value = JSON.stringify(option);
      element.textContent = name;
      if (field.option_names && option !== null) element.title = field.name + " = " + option;
      if (JSON.stringify(option) === JSON.stringify(value)) element.selected = true;
      input.appendChild(element);
    }
    inputs = [input]; read = () => JSON.parse(input.value);
  } else if ((field.widget === "number" || field.widget === "integer") && field.slider && value !== null) {
    box.appendChild(sliderWithBoxes(field, [value], (values, final) => commit(values[0], final)));
  } else if (field.widget === "number" || field.widget === "integer") {
    const input = numberInput(value, field, field.widget === "integer");
    inputs = [input]; read = () => readNumber(input, field.nullable);
  } else if (field.widget === "range" && Array.isArray(value)) {
    box.appendChild(sliderWithBoxes(field, value, (values, final) => commit(values, final)));
  } else if (field.widget === "numbers" && Array.isArray(value)) {
    inputs = value.map((v) => numberInput(v, field, field.item_type === "integer"));
    read = () => inputs.map((input) => readNumber(input, false));
  } else if (field.widget === "axes") {
    box.appendChild(axesControl(field, step, commit));
  } else if (field.widget === "text") {
    const input = document.createElement("input");
    input.type = "text"; input.value = value === null ? "" : value;
    inputs = [input]; read = () => (input.value === "" && field.nullable ? null : input.value);
  } else {
    const input = document.createElement("input");
    input.type = "text"; input.value = JSON.stringify(value);
    input.className = "json";
    inputs = [input]; read = () => JSON.parse(input.value);
  }
  for (const input of inputs) {
    input.name = field.name;
    input.addEventListener("change", () => {
      try {
        const next = read();
        inputs.forEach((i) => i.classList.remove("invalid"));
        commit(next, true);
      } catch (error) {
        inputs.forEach((i) => i.classList.add("invalid"));
        status(field.name + ": " + error.message, true);
      }
    });
    box.appendChild(input);
  }
  row.append(label, box);
  return row;
}

// A per-axis dict of ranges ({x: [lo, hi], y: [lo, hi]}): one slider row per axis and an
// "x/y linked" toggle; while linked, moving one axis moves the others to the same range.
function axesControl(field, step, commit) {
  const wrap = document.createElement("div");
  wrap.className = "axes";
  const axes = field.axes;
  const start = step.args[field.name];
  let last = start && typeof start === "object" ? start : Object.fromEntries(axes.map((a) => [a, [0, 0]]));
  const rows = {};
  const head = document.createElement("div");
  head.className = "axes-head";
  const link = document.createElement("label");
  const linked = document.createElement("input");
  linked.type = "checkbox";
  linked.className = "linked";
  linked.checked = axes.every((a) => JSON.stringify(last[a]) === JSON.stringify(last[axes[0]]));
  link.append(linked, " " + axes.join("/") + " linked");
  head.appendChild(link);
  let use = null;
  if (field.nullable) {
    const label = document.createElement("label");
    use = document.createElement("input");
    use.type = "checkbox";
    use.className = "use";
    use.checked = !!start;
    label.append(use, " set");
    head.appendChild(label);
  }
  wrap.appendChild(head);
  const body = document.createElement("div");
  wrap.appendChild(body);
  function current() {
    return Object.fromEntries(axes.map((a) => [a, last[a].slice()]));
  }
  for (const axis of axes) {
    const row = document.createElement("div");
    row.className = "axis";
    row.dataset.axis = axis;
    const name = document.createElement("span");
    name.className = "axis-name";
    name.textContent = axis;
    rows[axis] = sliderWithBoxes(field, last[axis], (values, final) => {
      last[axis] = values.slice();
      if (linked.checked) {
        for (const other of axes) {
          if (other === axis) continue;
          last[other] = values.slice();
          rows[other].set(values);
        }
      }
      commit(current(), final);
    });
    row.append(name, rows[axis]);
    body.appendChild(row);
  }
  linked.addEventListener("change", () => {
    if (!linked.checked) return;
    for (const axis of axes) { last[axis] = last[axes[0]].slice(); rows[axis].set(last[axis]); }
    commit(current(), true);
  });
  if (use) {
    const shown = () => { body.hidden = !use.checked; linked.disabled = !use.checked; };
    use.addEventListener("change", () => { shown(); commit(use.checked ? current() : null, true); });
    shown();
  }
  return wrap;
}

// A control changed: re-render soon (debounced, so dragging a handle renders at most every
// DEBOUNCE_MS), and at once when the handle is let go.
let pending = null;
function changed(final) {
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => { pending = null; run(); }, final ? 0 : DEBOUNCE_MS);
}

// ---- running ---------------------------------------------------------------------------------
function request() {
  return {
    session: state.session,
    pipeline: state.pipeline.map((s) => ({ name: s.name, args: s.args, p: s.p })),
    seed: state.seed,
    draw_targets: $("draw-targets").checked,
    max_side: MAX_SIDE,
  };
}

async function run() {
  const version = ++state.version;
  const seed = parseInt($("seed").value, 10);
  state.seed = Number.isFinite(seed) && seed >= 0 ? seed : 0;
  $("seed").value = state.seed;
  document.body.dataset.busy = "1";
  const started = performance.now();
  panels(started);  // the grid is drawn alongside the view, not after it
  try {
    const data = await api("POST", "/api/apply", request());
    if (version !== state.version) return;
    $("result").src = data.image;
    $("result").dataset.seed = String(data.seed);
    $("result-info").textContent = data.width + "×" + data.height + (data.scaled ? " (shown smaller)" : "") +
      ", seed " + data.seed;
    $("applied").textContent = data.applied.length
      ? data.applied.map((a) => a.name + " " + JSON.stringify(a.params)).join("\n")
      : "(nothing fired)";
    status("");
  } catch (error) {
    if (version === state.version) status(error.message, true);
  } finally {
    if (version === state.version) {
      document.body.dataset.busy = "";
      document.body.dataset.version = String(version);
    }
  }
}

// ---- the panels that follow the view: the grid of samples, timings, the diff with a policy ------
// Each run of the view starts them again; an answer that arrives after a newer run started is dropped.
// The grid is asked for in chunks of GRID_CHUNK tiles, PARALLEL at a time, and drawn as they come,
// so the first samples show within the budget even when a slow transform makes the whole grid long.
// ``started``: when the change being rendered was made (the grid's line shows the time since).
const GRID_CHUNK = 4;
const PARALLEL = 2;

async function panels(started) {
  const version = ++state.panels;
  document.body.dataset.panelsWanted = String(version);
  const body = request();
  const count = parseInt($("grid-count").value, 10);
  if (started === undefined) started = performance.now();
  const totals = { count: count, done: 0, seed: body.seed, boxes_in: 0, boxes_kept: 0, keypoints_in: 0, keypoints_kept: 0 };
  const figures = startGrid(count, body.seed);
  let next = 0;
  async function worker() {
    while (next < count && version === state.panels) {
      const first = next;
      next += GRID_CHUNK;
      const chunk = Object.assign({}, body, {
        seed: (body.seed + first) % 4294967296, count: Math.min(GRID_CHUNK, count - first), tile_side: TILE_SIDE,
      });
      const data = await api("POST", "/api/grid", chunk);
      if (version !== state.panels) return;
      data.tiles.forEach((tile, k) => fillTile(figures[first + k], tile, first + k));
      for (const key of ["boxes_in", "boxes_kept", "keypoints_in", "keypoints_kept"]) totals[key] += data[key];
      totals.done += data.tiles.length;
      if (totals.first === undefined) totals.first = performance.now() - started;
      drawGridInfo(totals, performance.now() - started);
    }
  }
  try {
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    if (version !== state.panels) return;
    document.body.dataset.grid = String(version);
    const [timings, diff] = await Promise.all([
      state.pipeline.length ? api("POST", "/api/profile", body) : null,
      state.policy ? api("POST", "/api/diff", Object.assign({}, body, state.policy)) : null,
    ]);
    if (version !== state.panels) return;
    drawProfile(timings);
    drawDiff(diff);
    document.body.dataset.panels = String(version);
  } catch (error) {
    if (version === state.panels) status(error.message, true);
  }
}

function percent(part, whole) {
  return (100 * part / whole).toFixed(1) + "% (" + part + " of " + whole + ")";
}

function startGrid(count, seed) {
  const root = $("grid");
  root.textContent = "";
  state.tiles = new Array(count);
  $("tile-info").hidden = true;
  const figures = [];
  for (let index = 0; index < count; index++) {
    const figure = document.createElement("figure");
    figure.className = "tile pending";
    figure.dataset.index = String(index);
    const image = document.createElement("img");
    image.alt = "sample " + (index + 1);
    const caption = document.createElement("figcaption");
    caption.textContent = "seed " + ((seed + index) % 4294967296);
    figure.append(image, caption);
    figure.addEventListener("click", () => { if (state.tiles[index]) showTile(index); });
    root.appendChild(figure);
    figures.push(figure);
  }
  return figures;
}

function fillTile(figure, tile, index) {
  state.tiles[index] = tile;
  figure.classList.remove("pending");
  figure.dataset.seed = String(tile.seed);
  const image = figure.querySelector("img");
  image.src = tile.image;
  image.alt = "sample with seed " + tile.seed;
  figure.querySelector("figcaption").textContent = "seed " + tile.seed;
}

function drawGridInfo(totals, elapsed) {
  const parts = [totals.done === totals.count ? totals.count + " samples, seeds " + totals.seed + "…"
    : totals.done + " of " + totals.count + " samples"];
  if (totals.boxes_in) parts.push("boxes dropped " + percent(totals.boxes_in - totals.boxes_kept, totals.boxes_in));
  if (totals.keypoints_in) parts.push("keypoints dropped " + percent(totals.keypoints_in - totals.keypoints_kept, totals.keypoints_in));
  parts.push("first samples in " + Math.round(totals.first) + " ms, " + totals.done + " in " + Math.round(elapsed) +
    " ms (budget " + BUDGET_MS + " ms)");
  const info = $("grid-info");
  info.textContent = parts.join(" · ");
  info.dataset.ms = String(Math.round(elapsed));
  info.classList.toggle("over", totals.first > BUDGET_MS);
}

function showTile(index) {
  const tile = state.tiles[index];
  for (const figure of document.querySelectorAll("#grid .tile")) figure.classList.toggle("selected", figure.dataset.index === String(index));
  const lines = ["seed " + tile.seed + ": " + tile.width + "×" + tile.height + ", " + tile.bboxes + " boxes, " + tile.keypoints + " keypoints"];
  for (const applied of tile.applied) lines.push(applied.name + " " + JSON.stringify(applied.params));
  if (!tile.applied.length) lines.push("(nothing fired)");
  $("tile-info").textContent = lines.join("\n");
  $("tile-info").hidden = false;
}

function drawProfile(data) {
  const body = $("profile").tBodies[0];
  body.textContent = "";
  if (!data) { $("timing").textContent = ""; return; }
  const costs = data.steps.map((s) => s.ms_when_fired).filter((v) => v !== null);
  const fastest = Math.max(Math.min(...costs), 1e-3);
  const slowest = Math.max(...costs, 1e-3);
  for (const step of data.steps) {
    const row = document.createElement("tr");
    row.dataset.name = step.name;
    const ms = step.ms_when_fired;
    const cells = [step.name, String(step.p), ms === null ? "not applied" : ms.toFixed(2), "", ms === null ? "" : (ms / fastest).toFixed(0) + "×"];
    cells.forEach((text, index) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (index === 3 && ms !== null) {
        const bar = document.createElement("span");
        bar.className = "bar" + (ms === slowest && costs.length > 1 ? " slowest" : "");
        bar.style.width = Math.max(2, (100 * ms) / slowest) + "%";
        cell.appendChild(bar);
      }
      row.appendChild(cell);
    });
    body.appendChild(row);
  }
  $("timing").textContent = "(profiler, " + data.runs + " runs: " + data.total_ms.toFixed(1) + " ms per image, resampling " +
    data.resample_ms.toFixed(1) + " ms, overhead " + data.overhead_ms.toFixed(1) + " ms)";
}

function drawDiff(data) {
  const box = $("diff");
  if (!data || !state.policy) { box.hidden = true; return; }
  box.hidden = false;
  box.className = data.same ? "same" : "changed";
  box.textContent = data.same ? "same steps as " + state.policy.filename
    : "changes from " + state.policy.filename + ":\n" + data.changes.join("\n");
}

async function loadPolicy(file) {
  if (!file) return;
  try {
    const data = await api("POST", "/api/policy?filename=" + encodeURIComponent(file.name), file, true);
    state.policy = { policy: data.text, filename: data.filename };
    state.pipeline = data.steps.map((s) => ({ name: s.name, args: s.args, p: s.p }));
    if (data.seed !== null) $("seed").value = data.seed;
    $("policy-name").textContent = data.filename + " (" + data.steps.length + " steps)";
    drawPipeline();
    await select(state.pipeline.length ? 0 : -1);
    await run();
  } catch (error) {
    status(error.message, true);
  }
}

function showOriginal() {
  const draw = $("draw-targets").checked ? "1" : "0";
  $("original").src = "/api/session/" + encodeURIComponent(state.session) + "/original.png?draw=" + draw + "&max_side=" + MAX_SIDE + "&t=" + Date.now();
}

async function showSession(info) {
  state.session = info.session;
  const parts = [info.width + "×" + info.height];
  if (info.mask) parts.push("mask");
  if (info.bboxes) parts.push(info.bboxes + " boxes");
  if (info.keypoints) parts.push(info.keypoints + " keypoints");
  $("session-info").textContent = parts.join(", ");
  showOriginal();
  await run();
}

async function upload(kind, file) {
  if (!file) return;
  try {
    let info;
    if (kind === "image") info = await api("POST", "/api/upload", file, true);
    else {
      if (state.session === "sample") throw new Error("upload your own image before its " + kind);
      const query = kind === "boxes" ? "?filename=" + encodeURIComponent(file.name) : "";
      info = await api("POST", "/api/session/" + encodeURIComponent(state.session) + "/" + kind + query, file, true);
    }
    await showSession(info);
  } catch (error) {
    status(error.message, true);
  }
}

async function exportAs(format) {
  try {
    const data = await api("POST", "/api/export", Object.assign(request(), { format: format }));
    $("export-text").value = data.text;
    $("export-text").dataset.format = format;
    const link = $("download");
    link.href = URL.createObjectURL(new Blob([data.text], { type: "text/plain" }));
    link.download = data.filename;
    status("exported " + data.filename);
  } catch (error) {
    status(error.message, true);
  }
}

async function start() {
  $("search").addEventListener("input", drawCatalogue);
  $("image-file").addEventListener("change", (e) => upload("image", e.target.files[0]));
  $("mask-file").addEventListener("change", (e) => upload("mask", e.target.files[0]));
  $("boxes-file").addEventListener("change", (e) => upload("boxes", e.target.files[0]));
  $("keypoints-file").addEventListener("change", (e) => upload("keypoints", e.target.files[0]));
  $("use-sample").addEventListener("click", () => {
    for (const id of ["image-file", "mask-file", "boxes-file", "keypoints-file"]) $(id).value = "";
    api("GET", "/api/session/sample").then(showSession).catch((error) => status(error.message, true));
  });
  $("apply").addEventListener("click", run);
  $("seed").addEventListener("change", run);
  $("resample").addEventListener("click", () => {
    $("seed").value = Math.floor(Math.random() * 4294967296);
    run();
  });
  $("draw-targets").addEventListener("change", () => { showOriginal(); run(); });
  $("export-yaml").addEventListener("click", () => exportAs("yaml"));
  $("export-python").addEventListener("click", () => exportAs("python"));
  $("policy-file").addEventListener("change", (e) => loadPolicy(e.target.files[0]));
  $("grid-count").addEventListener("change", () => panels());
  try {
    state.catalogue = await api("GET", "/api/transforms");
    drawCatalogue();
    await showSession(await api("GET", "/api/session/sample"));
    document.body.dataset.ready = "1";
  } catch (error) {
    status(error.message, true);
  }
}

start();
