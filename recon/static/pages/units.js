// The units across the fleet (/units): each unit name's services counted by state, from one
// GET /api/services (the compact view on a large fleet), refreshed every 30 s while visible.
import { api, el } from "../lib/recon.js";
import { servicesOf } from "../lib/fleet.js";
import { classify } from "../lib/status.js";

const root = document.getElementById("units");
const updated = document.getElementById("updated");
const error = document.getElementById("fleet-error");
const rows = new Map([...root.querySelectorAll("tr[data-unit]")].map((tr) => [tr.dataset.unit, tr]));
const ORDER = ["crashloop", "failed", "unreachable", "missing", "masked", "stopped", "unknown", "busy", "idle", "running"];

async function load() {
  try {
    const data = await api("GET", root.dataset.large === "yes" ? "/api/services?view=compact" : "/api/services");
    const tally = new Map(); // unit -> key -> [count, word]
    for (const s of servicesOf(data)) {
      const [key, word] = classify(s);
      if (!tally.has(s.unit)) tally.set(s.unit, new Map());
      const t = tally.get(s.unit);
      t.set(key, [(t.has(key) ? t.get(key)[0] : 0) + 1, word]);
    }
    for (const [unit, tr] of rows) {
      const t = tally.get(unit) || new Map();
      const keys = [...t.keys()].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
      tr.dataset.problem = keys.some((k) => ORDER.indexOf(k) < ORDER.indexOf("unknown")) ? "yes" : "no";
      tr.querySelector("[data-states]").replaceChildren(...keys.flatMap((k) => [el("span", { class: `hs count-${k}` },
        el("span", { class: "dot", "aria-hidden": "true" }), `${t.get(k)[0]} ${t.get(k)[1]}`), " "]));
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    error.hidden = true;
  } catch (err) {
    error.textContent = `Could not read the status: ${err.message}`;
    error.hidden = false;
  }
}

load();
setInterval(() => { if (!document.hidden) load(); }, 30000);
