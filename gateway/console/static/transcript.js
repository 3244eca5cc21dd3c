// One conversation's transcript, built from stream events (live view, talk panel) or stored history.
import { badge, el, line, ms, toolLine } from "./ui.js";

export class Transcript {
  constructor(container) {
    this.node = el("div", { class: "transcript" });
    container.append(this.node);
    this.turns = new Map();
  }

  turn(id, role) {
    let turn = this.turns.get(id);
    if (!turn) {
      turn = { id, role, text: "", partial: false, latency: null, interrupted: null, tools: [], breakdown: null };
      this.turns.set(id, turn);
    }
    if (role) turn.role = role;
    return turn;
  }

  // A stream event (SPEC §4 names); audio is not an event.
  apply(event) {
    const id = event.turn_id;
    if (!id) return;
    if (event.type === "turn_start") {
      const turn = this.turn(id, event.role);
      if (event.latency_ms !== undefined && event.latency_ms !== null) turn.latency = event.latency_ms;
    } else if (event.type === "transcript") {
      const turn = this.turn(id, event.role);
      turn.text = event.text;
      turn.partial = !event.is_final;
      if (event.is_final && !event.text && !turn.tools.length) this.turns.delete(id);  // noise, no words
    } else if (event.type === "tool_call") {
      this.turn(id, "assistant").tools.push({ call_id: event.call_id, name: event.name, arguments: event.arguments });
    } else if (event.type === "tool_result") {
      const tool = this.turn(id, "assistant").tools.find((t) => t.call_id === event.call_id);
      if (tool) Object.assign(tool, { result: event.result, error: event.error, duration_ms: event.duration_ms });
    } else if (event.type === "interruption") {
      const turn = this.turn(id, "assistant");
      turn.interrupted = event.played_ms;
      if (event.text !== undefined) turn.text = event.text;
    } else if (event.type === "turn_end" && event.interrupted) {
      const turn = this.turn(id, "assistant");
      if (turn.interrupted === null) turn.interrupted = event.duration_ms;
    } else {
      return;
    }
    this.render(id);
  }

  // A stored history entry (GET /v1/conversations/{id}).
  addStored(stored) {
    const turn = this.turn(stored.turn_id, stored.role);
    turn.text = stored.text;
    turn.latency = stored.latency_ms ?? null;
    turn.interrupted = stored.interrupted ? stored.duration_ms : null;
    turn.tools = (stored.tool_calls || []).map((c) => ({ ...c }));
    turn.breakdown = stored.latency_breakdown || null;
    turn.timestamp = stored.timestamp;
    this.render(stored.turn_id);
  }

  render(id) {
    const turn = this.turns.get(id);
    const old = this.node.querySelector(`[data-turn="${CSS.escape(id)}"]`);
    if (!turn) { if (old) old.remove(); return; }
    const facts = [];
    if (turn.latency !== null) facts.push(badge(`latency ${ms(turn.latency)}`, "latency"));
    if (turn.breakdown) {
      const b = turn.breakdown;
      const parts = [["end of turn", b.endpoint_ms], ["ASR", b.asr_ms], ["LLM", b.llm_first_token_ms], ["TTS", b.tts_first_audio_ms]]
        .filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k} ${ms(v)}`);
      if (parts.length) facts.push(el("span", { class: "muted small", text: parts.join(" · ") }));
    }
    if (turn.interrupted !== null) facts.push(badge(`interrupted after ${ms(turn.interrupted)}`, "warn"));
    const node = el("div", { class: "turn", dataset: { turn: id } },
      turn.tools.map((t) => toolLine(t.name, t.arguments, t.result, t.error, t.duration_ms)),
      turn.text || turn.partial ? line(turn.role, turn.text || "...", facts, { partial: turn.partial }) :
        (facts.length ? el("div", { class: "facts standalone" }, facts) : null));
    if (old) old.replaceWith(node);
    else this.node.append(node);
    this.node.scrollTop = this.node.scrollHeight;
  }
}
