// Live calls: one server-sent event feed (GET /v1/live/events) kept while signed in.
import { catalog, follow, personaName } from "./api.js";
import { Transcript } from "./transcript.js";
import { badge, clear, duration, el, empty } from "./ui.js";

const calls = new Map();  // session_id -> {call, events}
let feed = null;
let countNode = null;
let view = null;
let ticker = null;

function setCount() {
  if (countNode) countNode.textContent = calls.size ? String(calls.size) : "";
}

function onMessage(message) {
  if (message.type === "snapshot") {
    calls.clear();
    for (const call of message.calls) calls.set(call.session_id, { call, events: call.events || [] });
  } else if (message.type === "call_started") {
    const known = calls.get(message.call.session_id);
    calls.set(message.call.session_id, { call: message.call, events: known ? known.events : [] });
  } else if (message.type === "event") {
    const entry = calls.get(message.session_id);
    if (entry) {
      entry.events.push(message.event);
      if (entry.transcript) entry.transcript.apply(message.event);
    }
    return;
  } else if (message.type === "call_ended") {
    calls.delete(message.session_id);
  }
  setCount();
  if (view) draw();
}

export function watchCount(node) {
  countNode = node;
  if (feed) return;
  feed = new AbortController();
  const run = async () => {
    while (feed && !feed.signal.aborted) {
      try {
        await follow("/v1/live/events", onMessage, feed.signal);
      } catch (err) {
        if (feed?.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));  // reconnect after a dropped feed
    }
  };
  run();
}

export function stopCount() {
  if (feed) feed.abort();
  feed = null;
  calls.clear();
  setCount();
}

function card(entry, personas) {
  const { call } = entry;
  const parties = [call.caller, call.called].filter(Boolean).join(" → ") || "browser / API";
  const timer = el("span", { class: "timer", dataset: { started: call.started_at }, text: duration(call.duration_ms) });
  const body = el("div", { class: "card-body" });
  const node = el("article", { class: "card call", dataset: { session: call.session_id } },
    el("header", { class: "card-head" },
      el("div", {}, badge(call.channel, `channel ${call.channel}`), " ",
        el("strong", { text: personaName(personas, call.persona_id) }),
        el("div", { class: "muted small", text: parties })),
      el("div", { class: "right" }, timer,
        el("a", { href: `#/conversations/${call.session_id}`, class: "small", text: "details" }))),
    body);
  entry.transcript = new Transcript(body);
  for (const event of entry.events) entry.transcript.apply(event);
  return node;
}

async function draw() {
  const { personas } = await catalog();
  clear(view);
  if (!calls.size) {
    view.append(empty("No calls right now. Calls appear here as they start, with the transcript as it happens."));
    return;
  }
  const grid = el("div", { class: "call-grid" });
  for (const entry of calls.values()) grid.append(card(entry, personas));
  view.append(grid);
}

export async function render(node) {
  view = node;
  await draw();
  ticker = setInterval(() => {
    for (const timer of document.querySelectorAll(".timer[data-started]")) {
      timer.textContent = duration(Date.now() - Date.parse(timer.dataset.started));
    }
  }, 1000);
}

export function leave() {
  view = null;
  clearInterval(ticker);
  for (const entry of calls.values()) entry.transcript = null;
}
