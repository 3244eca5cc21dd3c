// The public API with the signed-in admin key. Errors carry SPEC §3's {code, message, param}.

const KEY = "parley.adminKey";

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code;
    this.param = error?.param;
  }
}

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) { value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY); },
};

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${auth.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data.error);
  return data;
}

export async function blobUrl(path) {
  const resp = await fetch(path, { headers: { Authorization: `Bearer ${auth.key}` } });
  if (!resp.ok) throw new ApiError(resp.status, (await resp.json().catch(() => ({}))).error);
  return URL.createObjectURL(await resp.blob());
}

// Server-sent events over fetch, so the key travels in a header rather than in the URL.
export async function follow(path, onMessage, signal) {
  const resp = await fetch(path, { headers: { Authorization: `Bearer ${auth.key}` }, signal });
  if (!resp.ok) throw new ApiError(resp.status, (await resp.json().catch(() => ({}))).error);
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const chunk = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const row of chunk.split("\n")) {
        if (row.startsWith("data: ")) onMessage(JSON.parse(row.slice(6)));
      }
    }
  }
}

// Shared look-ups, fetched once per sign-in.
let cache = null;
export async function catalog(refresh = false) {
  if (!cache || refresh) {
    const [personas, voices, tools] = await Promise.all([
      api("GET", "/v1/personas"), api("GET", "/v1/voices").catch(() => ({ voices: [], languages: [] })),
      api("GET", "/v1/tools").catch(() => ({ tools: [] })),
    ]);
    cache = { personas: personas.personas, voices: voices.voices, languages: voices.languages, tools: tools.tools };
  }
  return cache;
}

export function personaName(personas, id) {
  if (!id) return "-";
  const p = personas.find((x) => x.persona_id === id);
  return p ? p.name : id;
}
