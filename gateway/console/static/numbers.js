// Number routes: E.164 numbers and SIP user parts -> persona, and the default route.
import { api, catalog } from "./api.js";
import { badge, clear, el, empty, field, toast, when } from "./ui.js";

function personaSelect(personas, value, label) {
  const node = el("select", { name: "persona_id", "aria-label": label },
    personas.map((p) => el("option", { value: p.persona_id, text: `${p.name} (${p.persona_id})` })));
  if (value) node.value = value;
  return node;
}

export async function render(view, actions) {
  const cat = await catalog(true);
  const redraw = () => { clear(view); clear(actions); render(view, actions); };
  const { phone_numbers: routes } = await api("GET", "/v1/phone-numbers");

  const number = el("input", { name: "number", placeholder: "+15550100, 1000 or default", required: true });
  const persona = personaSelect(cat.personas, null, "Persona");
  const error = el("p", { class: "form-error", role: "alert" });
  const add = el("form", { class: "card inline-form", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const route = await api("POST", "/v1/phone-numbers", { number: number.value, persona_id: persona.value });
      toast(`${route.number} now reaches ${route.persona_name}`);
      redraw();
    } catch (err) {
      error.textContent = err.message;
    }
  } },
    el("h2", { text: "Route a number" }),
    el("div", { class: "row wrap" }, field("Number", number), field("Persona", persona),
      el("button", { type: "submit", class: "primary", disabled: !cat.personas.length, text: "Add route" })),
    el("p", { class: "hint", text: "An E.164 number for Twilio (+15550100), the dialled user part for SIP (1000, support), "
      + "or default: the persona for every number no other route names." }),
    cat.personas.length ? null : el("p", { class: "muted", text: "Create a persona first." }),
    error);
  view.append(add);

  if (!routes.length) return view.append(empty("No numbers are routed yet: every call is turned away politely."));
  const body = el("tbody");
  for (const r of routes) {
    const repoint = personaSelect(cat.personas, r.persona_id, `Persona for ${r.number}`);
    repoint.disabled = r.source === "config";
    repoint.addEventListener("change", async () => {
      try {
        await api("PATCH", `/v1/phone-numbers/${encodeURIComponent(r.number)}`, { persona_id: repoint.value });
        toast(`${r.number} re-pointed`);
      } catch (err) {
        toast(err.message, "error");
        repoint.value = r.persona_id;
      }
    });
    body.append(el("tr", { dataset: { number: r.number } },
      el("td", {}, r.default ? badge("default route", "number") : el("span", { class: "mono", text: r.number })),
      el("td", {}, repoint),
      el("td", {}, r.source === "config" ? badge("config file", "muted") : badge("API")),
      el("td", { text: when(r.created_at) }),
      el("td", {}, r.source === "config" ? null : el("button", { class: "ghost small danger", text: "Delete", onclick: async () => {
        if (!confirm(`Stop routing ${r.number}?`)) return;
        try {
          await api("DELETE", `/v1/phone-numbers/${encodeURIComponent(r.number)}`);
          toast(`${r.number} no longer routed`);
          redraw();
        } catch (err) {
          toast(err.message, "error");
        }
      } }))));
  }
  view.append(el("div", { class: "card" }, el("table", { class: "table" },
    el("thead", {}, el("tr", {}, ["Number", "Persona", "Source", "Added", ""].map((h) => el("th", { text: h })))), body)));
}
