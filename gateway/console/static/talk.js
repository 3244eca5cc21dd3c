// "Talk to this persona": the browser's microphone over the Conversational API stream, the reply played back.
import { api, catalog } from "./api.js";
import { Transcript } from "./transcript.js";
import { clear, el, toast } from "./ui.js";

const RATE = 16000;
const FRAME = RATE / 50;  // 20 ms
let call = null;

class Call {
  constructor(session, onState, transcript) {
    this.session = session;
    this.onState = onState;
    this.transcript = transcript;
    this.sources = new Set();
    this.playAt = 0;
    this.pending = new Float32Array(0);
  }

  async start(useMic) {
    this.ctx = new AudioContext({ sampleRate: RATE });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ token: this.session.stream_token, sample_rate: String(RATE), encoding: "pcm16" });
    this.ws = new WebSocket(`${scheme}://${location.host}/v1/conversations/${this.session.session_id}/stream?${query}`);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (msg) => (typeof msg.data === "string" ? this.event(JSON.parse(msg.data)) : this.play(msg.data));
    this.ws.onclose = () => this.stop("ended");
    await new Promise((resolve, reject) => { this.ws.onopen = resolve; this.ws.onerror = () => reject(new Error("the stream did not open")); });
    if (useMic) await this.openMic();
    this.onState(useMic ? "listening" : "typing");
  }

  async openMic() {
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    await this.ctx.audioWorklet.addModule("/console/static/mic-worklet.js");
    const source = this.ctx.createMediaStreamSource(this.mic);
    this.tap = new AudioWorkletNode(this.ctx, "mic-tap");
    this.tap.port.onmessage = (msg) => this.capture(msg.data);
    source.connect(this.tap);
  }

  capture(samples) {
    const joined = new Float32Array(this.pending.length + samples.length);
    joined.set(this.pending);
    joined.set(samples, this.pending.length);
    let offset = 0;
    for (; offset + FRAME <= joined.length; offset += FRAME) {
      const frame = new Int16Array(FRAME);
      let peak = 0;
      for (let i = 0; i < FRAME; i++) {
        const s = Math.max(-1, Math.min(1, joined[offset + i]));
        frame[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
        peak = Math.max(peak, Math.abs(s));
      }
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame.buffer);
      this.level = peak;
    }
    this.pending = joined.slice(offset);
  }

  play(buffer) {
    const pcm = new Int16Array(buffer);
    const audio = this.ctx.createBuffer(1, pcm.length, RATE);
    const out = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 0x8000;
    const node = this.ctx.createBufferSource();
    node.buffer = audio;
    node.connect(this.ctx.destination);
    this.playAt = Math.max(this.playAt, this.ctx.currentTime + 0.05);
    node.start(this.playAt);
    this.playAt += audio.duration;
    this.sources.add(node);
    node.onended = () => this.sources.delete(node);
    this.onState("speaking");
  }

  event(event) {
    this.transcript.apply(event);
    if (event.type === "interruption") {  // barge-in: drop what is queued to play, at once
      for (const node of this.sources) node.stop();
      this.sources.clear();
      this.playAt = 0;
    }
    if (event.type === "turn_end" && event.role === "assistant") this.onState(this.mic ? "listening" : "typing");
    if (event.type === "turn_start" && event.role === "user") this.onState("hearing you");
    if (event.type === "session_ended") this.stop(`ended (${event.reason})`);
    if (event.type === "error") toast(event.message, "error");
  }

  say(text) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "user_text", text }));
  }

  hangUp() {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "end" }));
  }

  stop(state) {
    if (this.stopped) return;
    this.stopped = true;
    if (this.mic) for (const track of this.mic.getTracks()) track.stop();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    setTimeout(() => this.ctx.close(), 4000);  // let the last words play out
    this.onState(state);
  }
}

export async function render(view, actions, rest) {
  const cat = await catalog(true);
  const persona = el("select", { name: "persona_id", "aria-label": "Persona" },
    cat.personas.map((p) => el("option", { value: p.persona_id, text: p.name })));
  if (rest[0]) persona.value = decodeURIComponent(rest[0]);
  const state = el("span", { class: "state", text: "not connected" });
  const meter = el("span", { class: "meter" }, el("span", { class: "meter-fill" }));
  const text = el("input", { name: "say", placeholder: "Or type what to say and press Enter", disabled: true });
  const start = el("button", { class: "primary", text: "Start talking" });
  const typeOnly = el("button", { class: "ghost", text: "Type only" });
  const hang = el("button", { class: "ghost danger", text: "Hang up", disabled: true });
  const board = el("div", { class: "card talk-transcript" },
    el("div", { class: "empty", text: "Pick a persona and press Start talking: what you say and what it answers shows here." }));
  const setState = (s) => {
    state.textContent = s;
    state.className = `state ${s.split(" ")[0]}`;
    const live = ["listening", "speaking", "hearing", "typing", "connecting"].includes(s.split(" ")[0]);
    start.disabled = typeOnly.disabled = persona.disabled = live;
    hang.disabled = text.disabled = !live;
  };

  async function begin(useMic) {
    if (call) call.stop("ended");
    clear(board);
    setState("connecting");
    try {
      const session = await api("POST", "/v1/conversations/create", { persona_id: persona.value });
      call = new Call(session, setState, new Transcript(board));
      board.dataset.session = session.session_id;
      await call.start(useMic);
    } catch (err) {
      setState("not connected");
      toast(`Could not start: ${err.message}`, "error");
    }
  }

  start.addEventListener("click", () => begin(true));
  typeOnly.addEventListener("click", () => begin(false));
  hang.addEventListener("click", () => call && call.hangUp());
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && text.value.trim() && call) { call.say(text.value.trim()); text.value = ""; }
  });
  const levels = setInterval(() => {
    meter.firstChild.style.width = `${Math.min(100, Math.round((call && !call.stopped ? call.level || 0 : 0) * 300))}%`;
  }, 100);
  render.cleanup = () => clearInterval(levels);

  if (!cat.personas.length) {
    view.append(el("div", { class: "empty", text: "Create a persona first, then talk to it here." }));
    return;
  }
  view.append(el("div", { class: "card talk-bar" },
    el("div", { class: "row wrap center" }, persona, start, typeOnly, hang, el("span", { class: "spacer" }), meter, state),
    el("p", { class: "muted small", text: "Uses your microphone and speakers; headphones keep the agent from hearing itself." }),
    text), board);
}

export function leave() {
  if (call) call.stop("ended");
  call = null;
  if (render.cleanup) render.cleanup();
}
