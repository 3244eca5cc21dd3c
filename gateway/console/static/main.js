// Sign-in, navigation and the view router of the console.
import { api, auth, catalog, ApiError } from "./api.js";
import { clear, el, toast } from "./ui.js";
import * as live from "./live.js";
import * as conversations from "./conversations.js";
import * as personas from "./personas.js";
import * as numbers from "./numbers.js";
import * as talk from "./talk.js";

const VIEWS = {
  live: ["Live calls", live],
  conversations: ["Conversations", conversations],
  personas: ["Personas", personas],
  numbers: ["Numbers", numbers],
  talk: ["Talk to a persona", talk],
};
let current = null;

async function checkKey(key) {
  auth.key = key;
  try {
    await api("GET", "/v1/personas");
    return null;
  } catch (err) {
    auth.key = null;
    if (err instanceof ApiError && err.status === 403) return "This key is not an admin key.";
    if (err instanceof ApiError && err.status === 401) return "This key is not valid (or was revoked).";
    return `The gateway did not answer: ${err.message}`;
  }
}

function showSignIn(message = "") {
  document.getElementById("app").hidden = true;
  document.getElementById("signin").hidden = false;
  document.getElementById("signin-error").textContent = message;
  document.getElementById("signin-key").focus();
}

async function route() {
  const name = (location.hash.replace(/^#\//, "").split("/")[0]) || "live";
  const [title, module] = VIEWS[name] || VIEWS.live;
  if (current && current.leave) current.leave();
  current = module;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === name);
  }
  document.getElementById("view-title").textContent = title;
  const view = clear(document.getElementById("view"));
  const actions = clear(document.getElementById("view-actions"));
  try {
    await module.render(view, actions, location.hash.split("/").slice(2));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return showSignIn(err.message);
    view.append(el("div", { class: "form-error", text: `Could not load: ${err.message}` }));
  }
}

async function start() {
  document.getElementById("signin").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("key-label").textContent = `${auth.key.slice(0, 10)}...`;
  await catalog(true);
  live.watchCount(document.getElementById("live-count"));
  await route();
}

document.getElementById("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = document.getElementById("signin-key").value.trim();
  // A new attempt starts with no verdict: the last attempt's message must not stand for this one.
  document.getElementById("signin-error").textContent = "";
  const problem = await checkKey(key);
  if (problem) return showSignIn(problem);
  document.getElementById("signin-key").value = "";
  toast("Signed in");
  await start();
});

document.getElementById("signout").addEventListener("click", () => {
  if (current && current.leave) current.leave();
  live.stopCount();
  auth.key = null;
  showSignIn();
});

window.addEventListener("hashchange", () => { if (auth.key) route(); });

if (auth.key) {
  checkKey(auth.key).then((problem) => (problem ? showSignIn(problem) : start()));
} else {
  showSignIn();
}
