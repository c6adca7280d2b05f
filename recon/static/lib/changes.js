// The dashboard's "What changed in the last 24 h": the fleet's recorded events (unit state
// changes, who caused them, hosts going down and back), read when the section is opened.
import { api, el, fmtClock } from "./recon.js";

const box = document.getElementById("changes");
const list = document.getElementById("changes-list");

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : fmtClock(d, new Date().toDateString() !== d.toDateString()).slice(0, 16);
}

export function changeText(e) {
  if (e.kind === "host") return `${when(e.at)}  ${e.host}: host ${e.to}`;
  let why = "";
  if (e.cause === "action" && e.action) why = ` (${e.action} by ${e.actor || "?"})`;
  else if (e.to === "failed" && e.result && e.result !== "success") {
    why = ` (${e.result}${e.exit_status != null ? ` ${e.exit_status}` : ""})`;
  }
  return `${when(e.at)}  ${e.service} on ${e.host}: ${e.from || "first seen"} → ${e.to}${why}`;
}

async function load() {
  try {
    const data = await api("GET", "/api/changes?hours=24&limit=200");
    const events = data.events || [];
    list.replaceChildren(...(events.length ? events.map((e) => el("li", {
      class: e.to === "failed" || e.to === "down" ? "tl-bad" : e.cause === "action" ? "tl-act" : "",
      text: changeText(e),
    })) : [el("li", { class: "muted", text: "Nothing changed in the last 24 hours." })]));
    if (data.truncated) list.append(el("li", { class: "muted", text: "(older changes left out)" }));
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted", text: `Could not read the changes: ${err.message}` }));
  }
}

if (box) box.addEventListener("toggle", () => { if (box.open) load(); });
