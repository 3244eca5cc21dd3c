// Personas: who the agent is and how it sounds. Create, edit, delete; checked by the API like a session.
import { api, catalog } from "./api.js";
import { badge, clear, el, empty, field, toast } from "./ui.js";

function numberOrNull(value) {
  return value.trim() === "" ? null : Number(value);
}

function form(persona, cat, onDone) {
  const p = persona || { language: "en", tools: [], llm: {}, recording: false, context_window: 50 };
  const readOnly = p.source === "config";
  const named = new Set((p.tools || []).filter((t) => !t.url).map((t) => t.name));
  const webhooks = (p.tools || []).filter((t) => t.url);
  const inputs = {
    name: el("input", { name: "name", value: p.name || "", required: true, maxlength: 120 }),
    persona_id: el("input", { name: "persona_id", value: "", placeholder: "generated if empty", pattern: "[A-Za-z0-9_-]{1,64}" }),
    voice_id: el("select", { name: "voice_id" }, cat.voices.map((v) =>
      el("option", { value: v.voice_id, text: `${v.name || v.voice_id} (${v.voice_id} · ${v.languages.join(", ")})` }))),
    language: el("select", { name: "language" }, cat.languages.map((l) => el("option", { value: l, text: l }))),
    system_prompt: el("textarea", { name: "system_prompt", rows: 6, required: true }),
    greeting: el("input", { name: "greeting", value: p.greeting || "", placeholder: "Said when the call starts" }),
    transfer_targets: el("input", { name: "transfer_targets", value: (p.transfer_targets || []).join(", "),
      placeholder: "+15550100, sip:desk@pbx" }),
    webhooks: el("textarea", { name: "webhooks", rows: 3, class: "mono",
      placeholder: '[{"name": "check_stock", "description": "...", "url": "https://..."}]' }),
    context_window: el("input", { name: "context_window", type: "number", min: 1, value: p.context_window ?? 50 }),
    max_turns: el("input", { name: "max_turns", type: "number", min: 1, value: p.max_turns ?? "", placeholder: "unlimited" }),
    vad_threshold: el("input", { name: "vad_threshold", type: "number", min: 0, max: 1, step: 0.05,
      value: p.vad_threshold ?? "", placeholder: "gateway default" }),
    temperature: el("input", { name: "llm.temperature", type: "number", min: 0, max: 2, step: 0.1,
      value: p.llm?.temperature ?? "", placeholder: "default" }),
    max_tokens: el("input", { name: "llm.max_tokens", type: "number", min: 1, max: 4096,
      value: p.llm?.max_tokens ?? "", placeholder: "default" }),
    model: el("input", { name: "llm.model", value: p.llm?.model ?? "", placeholder: "the configured model" }),
    recording: el("input", { name: "recording", type: "checkbox" }),
    noise_suppression: el("input", { name: "noise_suppression", type: "checkbox" }),
  };
  inputs.voice_id.value = p.voice_id || (cat.voices[0] && cat.voices[0].voice_id) || "";
  inputs.language.value = p.language || "en";
  inputs.system_prompt.value = p.system_prompt || "";
  inputs.webhooks.value = webhooks.length ? JSON.stringify(webhooks, null, 2) : "";
  inputs.recording.checked = !!p.recording;
  inputs.noise_suppression.checked = !!p.noise_suppression;
  const toolBoxes = cat.tools.map((t) => {
    const box = el("input", { type: "checkbox", value: t.name });
    box.checked = named.has(t.name);
    return el("label", { class: "check", title: t.description }, box, el("span", { text: t.name }));
  });
  const error = el("p", { class: "form-error", role: "alert" });

  function body() {
    let hooks = [];
    if (inputs.webhooks.value.trim()) {
      try { hooks = JSON.parse(inputs.webhooks.value); } catch { throw Object.assign(new Error("Webhook tools must be a JSON array"), { param: "tools" }); }
    }
    const tools = toolBoxes.filter((l) => l.firstChild.checked).map((l) => ({ name: l.firstChild.value })).concat(hooks);
    const llm = {};
    if (inputs.temperature.value !== "") llm.temperature = Number(inputs.temperature.value);
    if (inputs.max_tokens.value !== "") llm.max_tokens = Number(inputs.max_tokens.value);
    if (inputs.model.value.trim()) llm.model = inputs.model.value.trim();
    const targets = inputs.transfer_targets.value.split(",").map((s) => s.trim()).filter(Boolean);
    const out = {
      name: inputs.name.value, voice_id: inputs.voice_id.value, language: inputs.language.value,
      system_prompt: inputs.system_prompt.value, greeting: inputs.greeting.value.trim() || null, tools,
      transfer_targets: targets.length ? targets : null, context_window: numberOrNull(inputs.context_window.value),
      max_turns: numberOrNull(inputs.max_turns.value), vad_threshold: numberOrNull(inputs.vad_threshold.value),
      llm: Object.keys(llm).length ? llm : null, recording: inputs.recording.checked,
      noise_suppression: inputs.noise_suppression.checked,
    };
    if (!persona) {
      if (inputs.persona_id.value.trim()) out.persona_id = inputs.persona_id.value.trim();
      for (const k of Object.keys(out)) if (out[k] === null) delete out[k];  // create: leave defaults unsaid
    }
    return out;
  }

  const node = el("form", { class: "card persona-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    for (const bad of node.querySelectorAll(".invalid")) bad.classList.remove("invalid");
    try {
      const saved = persona ? await api("PATCH", `/v1/personas/${encodeURIComponent(persona.persona_id)}`, body())
        : await api("POST", "/v1/personas", body());
      toast(persona ? `Saved ${saved.name}` : `Created ${saved.name}`);
      await catalog(true);
      onDone();
    } catch (err) {
      error.textContent = err.message;
      const target = node.querySelector(`[name="${err.param}"]`) || (err.param === "llm" ? inputs.temperature : null)
        || (err.param === "tools" ? inputs.webhooks : null);
      if (target) { target.classList.add("invalid"); target.focus(); }
    }
  } },
    el("h2", { text: persona ? `Edit ${p.name}` : "New persona" }),
    readOnly ? el("p", { class: "notice", text: "Declared in the configuration file: change it there." }) : null,
    el("div", { class: "grid2" }, field("Name", inputs.name), persona ? null : field("Persona id", inputs.persona_id)),
    el("div", { class: "grid2" }, field("Voice", inputs.voice_id), field("Language", inputs.language)),
    field("System prompt", inputs.system_prompt, "Who the agent is and how it answers."),
    field("Greeting", inputs.greeting),
    el("fieldset", {}, el("legend", { text: "Tools" }), el("div", { class: "checks" }, toolBoxes),
      field("Webhook tools (JSON)", inputs.webhooks), field("Transfer targets", inputs.transfer_targets, "Where transfer_call may send the caller.")),
    el("fieldset", {}, el("legend", { text: "Conversation" }),
      el("div", { class: "grid3" }, field("Context window (turns)", inputs.context_window), field("Max turns", inputs.max_turns),
        field("VAD threshold", inputs.vad_threshold, "0-1, higher needs louder speech"))),
    el("fieldset", {}, el("legend", { text: "Language model" }),
      el("div", { class: "grid3" }, field("Temperature", inputs.temperature), field("Max reply tokens", inputs.max_tokens),
        field("Model", inputs.model))),
    el("label", { class: "check" }, inputs.recording, el("span", { text: "Record calls (both sides, kept with the session)" })),
    el("label", { class: "check" }, inputs.noise_suppression,
      el("span", { text: "Suppress noise on the caller's line (DTLN, before speech detection and recognition)" })),
    error,
    el("div", { class: "row" }, el("button", { type: "submit", class: "primary", disabled: readOnly, text: persona ? "Save" : "Create persona" }),
      el("button", { type: "button", class: "ghost", onclick: onDone, text: "Cancel" })));
  return node;
}

async function remove(persona, redraw) {
  if (!confirm(`Delete persona "${persona.name}"? Its past conversations stay.`)) return;
  try {
    await api("DELETE", `/v1/personas/${encodeURIComponent(persona.persona_id)}`);
    toast(`Deleted ${persona.name}`);
    await catalog(true);
    redraw();
  } catch (err) {
    toast(err.message, "error");
  }
}

export async function render(view, actions) {
  const cat = await catalog(true);
  const redraw = () => { clear(view); clear(actions); render(view, actions); };
  const show = (persona) => { clear(view); clear(actions); view.append(form(persona, cat, redraw)); };
  actions.append(el("button", { class: "primary", text: "New persona", onclick: () => show(null) }));
  if (!cat.personas.length) return view.append(empty("No personas yet. Create one, then route a number to it."));
  const grid = el("div", { class: "persona-grid" });
  for (const p of cat.personas) {
    const voice = cat.voices.find((v) => v.voice_id === p.voice_id);
    grid.append(el("article", { class: "card persona", dataset: { persona: p.persona_id } },
      el("header", { class: "card-head" },
        el("div", {}, el("h3", { class: "persona-name", text: p.name }), el("div", { class: "mono muted small", text: p.persona_id })),
        p.source === "config" ? badge("config file", "muted") : null),
      el("p", { class: "prompt-preview", text: p.system_prompt }),
      el("div", { class: "chips" }, badge(voice ? voice.name || voice.voice_id : p.voice_id), badge(p.language),
        p.recording ? badge("recording", "warn") : null, (p.tools || []).map((t) => badge(t.name, "toolname"))),
      el("div", { class: "chips" }, p.numbers.length ? p.numbers.map((n) => badge(n, "number")) : el("span", { class: "muted small", text: "no numbers" })),
      p.problem ? el("p", { class: "form-error", text: p.problem.message }) : null,
      el("div", { class: "row" },
        el("button", { class: "ghost small", text: p.source === "config" ? "View" : "Edit", onclick: () => show(p) }),
        el("a", { class: "button ghost small", href: `#/talk/${encodeURIComponent(p.persona_id)}`, text: "Talk" }),
        p.source === "config" ? null : el("button", { class: "ghost small danger", text: "Delete", onclick: () => remove(p, redraw) }))));
  }
  view.append(grid);
}
