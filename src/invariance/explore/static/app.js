// invariance explore: the page. Plain JavaScript, no libraries; talks only to its own server.
"use strict";

const MAX_SIDE = 1600;  // larger results are shown shrunk (the pipeline runs at full size)
const state = { session: "sample", catalogue: [], details: {}, pipeline: [], selected: -1, seed: 0, busy: 0, version: 0 };
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

function numberInput(value, field, integer) {
  const input = document.createElement("input");
  input.type = "number";
  input.step = integer ? "1" : "any";
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
    const input = document.createElement("select");
    const options = field.nullable ? [null].concat(field.options) : field.options;
    for (const option of options) {
      const element = document.createElement("option");
      element.value = JSON.stringify(option); element.textContent = option === null ? "None" : String(option);
      if (JSON.stringify(option) === JSON.stringify(value)) element.selected = true;
      input.appendChild(element);
    }
    inputs = [input]; read = () => JSON.parse(input.value);
  } else if (field.widget === "number" || field.widget === "integer") {
    const input = numberInput(value, field, field.widget === "integer");
    inputs = [input]; read = () => readNumber(input, field.nullable);
  } else if (field.widget === "range" && Array.isArray(value)) {
    const integer = field.item_type === "integer";
    inputs = [numberInput(value[0], field, integer), numberInput(value[1], field, integer)];
    read = () => [readNumber(inputs[0], false), readNumber(inputs[1], false)];
  } else if (field.widget === "text") {
    const input = document.createElement("input");
    input.type = "text"; input.value = value === null ? "" : value;
    inputs = [input]; read = () => (input.value === "" && field.nullable ? null : input.value);
  } else {
    const input = document.createElement("input");
    input.type = "text"; input.value = JSON.stringify(value);
    inputs = [input]; read = () => JSON.parse(input.value);
  }
  for (const input of inputs) {
    input.name = field.name;
    input.addEventListener("change", () => {
      try {
        step.args[field.name] = read();
        inputs.forEach((i) => i.classList.remove("invalid"));
        run();
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
