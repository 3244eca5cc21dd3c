// DOM helpers. Text always goes in through textContent: names, prompts and transcripts are user text.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export function badge(text, kind = "") {
  return el("span", { class: `badge ${kind}`.trim(), text });
}

export function ms(value) {
  if (value === null || value === undefined) return "-";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function duration(msValue) {
  const total = Math.max(0, Math.round(msValue / 1000));
  const m = Math.floor(total / 60), s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

export function when(iso) {
  if (!iso) return "-";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

let toastTimer = null;
export function toast(message, kind = "ok") {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.className = `toast ${kind}`;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 3500);
}

export function empty(text) {
  return el("div", { class: "empty", text });
}

// A chat line: who spoke, what was said, and small facts (latency, interrupted) beside it.
export function line(role, text, facts = [], extra = {}) {
  const who = { user: "Caller", assistant: "Agent" }[role] || role;
  return el("div", { class: `line ${role}${extra.partial ? " partial" : ""}`, dataset: extra.turnId ? { turn: extra.turnId } : undefined },
    el("div", { class: "who", text: who }),
    el("div", { class: "bubble" }, el("div", { class: "said", text }),
      facts.length ? el("div", { class: "facts" }, facts) : null));
}

export function toolLine(name, args, result, error, durationMs) {
  return el("div", { class: "tool" },
    el("span", { class: "tool-name", text: `${name}(${JSON.stringify(args ?? {})})` }),
    el("span", { class: error ? "tool-error" : "tool-result",
      text: error ? `error: ${error}` : (result === undefined ? "running..." : `-> ${JSON.stringify(result)}`) }),
    durationMs !== undefined ? el("span", { class: "muted small", text: ms(durationMs) }) : null);
}

export function field(label, input, hint) {
  return el("label", { class: "field" }, el("span", { class: "field-label", text: label }), input,
    hint ? el("span", { class: "hint", text: hint }) : null);
}
