// Past (and running) conversations: filters, pages, and one conversation's transcript with latency and tools.
import { api, blobUrl, catalog, personaName } from "./api.js";
import { Transcript } from "./transcript.js";
import { badge, clear, el, empty, ms, when } from "./ui.js";

const filters = { persona_id: "", status: "", channel: "", number: "" };
let audioUrl = null;

function select(name, options, label) {
  const node = el("select", { name, "aria-label": label, onchange: () => { filters[name] = node.value; } },
    el("option", { value: "", text: label }), options.map(([value, text]) => el("option", { value, text })));
  node.value = filters[name];
  return node;
}

async function list(view) {
  const { personas } = await catalog();
  const table = el("table", { class: "table" },
    el("thead", {}, el("tr", {}, ["Started", "Persona", "Channel", "Caller → called", "Status", "Turns", ""]
      .map((h) => el("th", { text: h })))));
  const body = el("tbody");
  table.append(body);
  const more = el("button", { class: "ghost", hidden: true, text: "Load more" });
  let cursor = null;

  async function load(reset) {
    if (reset) { clear(body); cursor = null; }
    const params = new URLSearchParams({ limit: "25" });
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    if (cursor) params.set("cursor", cursor);
    const page = await api("GET", `/v1/conversations?${params}`);
    for (const c of page.conversations) {
      body.append(el("tr", { class: "clickable", onclick: () => { location.hash = `#/conversations/${c.session_id}`; } },
        el("td", { text: when(c.created_at) }),
        el("td", { text: personaName(personas, c.persona_id) }),
        el("td", {}, badge(c.channel, `channel ${c.channel}`)),
        el("td", { class: "mono small", text: [c.caller, c.called].filter(Boolean).join(" → ") || "-" }),
        el("td", {}, badge(c.status, `status ${c.status}`)),
        el("td", { text: String(c.total_turns) }),
        el("td", {}, el("a", { href: `#/conversations/${c.session_id}`, text: "Open" }))));
    }
    if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 7 }, empty("No conversations match."))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }

  const number = el("input", { name: "number", placeholder: "Number", value: filters.number,
    oninput: () => { filters.number = number.value.trim(); } });
  const bar = el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(true); } },
    select("persona_id", personas.map((p) => [p.persona_id, p.name]), "All personas"),
    select("status", [["active", "active"], ["ready", "ready"], ["ended", "ended"]], "Any status"),
    select("channel", [["api", "api"], ["twilio", "twilio"], ["sip", "sip"]], "Any channel"),
    number, el("button", { class: "primary", type: "submit", text: "Filter" }));
  more.addEventListener("click", () => load(false));
  view.append(bar, el("div", { class: "card" }, table), more);
  await load(true);
}

async function detail(view, sessionId) {
  const { personas } = await catalog();
  const c = await api("GET", `/v1/conversations/${encodeURIComponent(sessionId)}`);
  const facts = [
    ["Persona", personaName(personas, c.persona_id)], ["Channel", c.channel],
    ["Caller", c.caller || "-"], ["Called", c.called || "-"], ["Status", c.status + (c.end_reason ? ` (${c.end_reason})` : "")],
    ["Started", when(c.created_at)], ["Turns", String(c.total_turns)], ["Voice", `${c.voice_id} · ${c.language}`],
  ];
  const latencies = c.history.filter((t) => t.role === "assistant" && t.latency_ms !== null).map((t) => t.latency_ms);
  if (latencies.length) {
    const sorted = [...latencies].sort((a, b) => a - b);
    facts.push(["Latency (median)", ms(sorted[Math.floor(sorted.length / 2)])]);
  }
  facts.push(["Interruptions", String(c.history.filter((t) => t.interrupted).length)]);
  const side = el("aside", { class: "card facts-card" },
    el("dl", {}, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
    el("details", {}, el("summary", { text: "System prompt" }), el("p", { class: "prompt", text: c.system_prompt })));
  if (c.recording_url) {
    const player = el("audio", { controls: true, class: "player" });
    side.append(el("h3", { text: "Recording" }), player,
      el("p", { class: "muted small", text: `Caller left, agent right · ${ms(c.recording_duration_ms)}` }));
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    blobUrl(c.recording_url).then((url) => { audioUrl = url; player.src = url; }).catch(() => {});
  }
  const main = el("div", { class: "card transcript-card" });
  view.append(el("p", {}, el("a", { href: "#/conversations", text: "← All conversations" }),
    el("span", { class: "mono muted small", text: `  ${c.session_id}` })),
    el("div", { class: "split" }, main, side));
  if (!c.history.length) main.append(empty("Nothing has been said yet."));
  const transcript = new Transcript(main);
  for (const turn of c.history) transcript.addStored(turn);
}

export async function render(view, actions, rest) {
  if (rest[0]) return detail(view, decodeURIComponent(rest[0]));
  return list(view);
}
