// The unit page's "Last 24 hours": the service's strip at 5-minute resolution with its
// hours marked, a legend, the availability over 24 h / 7 d / 30 d, and its host's
// reachability strip below it -- from GET /api/history/strips?service=<slug>.
import { api, el } from "./recon.js";
import { availabilityText, drawStrip, legend, pct } from "./strip.js";

const box = document.getElementById("u-strip");
const BUCKETS = 288;

function axis(hours) {
  const now = new Date();
  const at = (h) => new Date(now.getTime() - h * 3600 * 1000).toTimeString().slice(0, 5);
  return el("div", { class: "strip-axis", "aria-hidden": "true" },
    ...[hours, (hours * 3) / 4, hours / 2, hours / 4].map((h) => el("span", { text: at(h) })), el("span", { text: "now" }));
}

function availability(a) {
  return el("dl", { class: "facts-list avail-list" },
    ...[["24 h", "24h"], ["7 days", "7d"], ["30 days", "30d"]].flatMap(([word, key]) => [
      el("dt", { text: `Available, ${word}` }), el("dd", { text: pct(a[key]) })]));
}

async function load() {
  try {
    const data = await api("GET", `/api/history/strips?service=${encodeURIComponent(box.dataset.slug)}&hours=24&buckets=${BUCKETS}`);
    const svc = data.services[box.dataset.slug];
    const host = data.hosts[box.dataset.host];
    const opts = { hours: data.hours, bucketSeconds: data.bucket_seconds, big: true };
    const summary = el("p", { class: "sr-only", text: `${box.dataset.slug}: ${availabilityText(svc.availability)}` });
    box.replaceChildren(
      drawStrip(svc, { ...opts, label: "This service" }), axis(data.hours), summary,
      legend([...new Set(svc.strip + "rfls")].filter((c) => c !== "-")),
      availability(svc.availability),
      el("h3", { class: "strip-host-title", text: `Host ${box.dataset.host}: reachable ${pct(host.availability["24h"])} of 24 h` }),
      drawStrip(host, { ...opts, big: false, label: `Host ${box.dataset.host}`, host: true }));
  } catch (err) {
    box.replaceChildren(el("p", { class: "muted", text: `Could not read the history: ${err.message}` }));
  }
}

if (box) {
  load();
  setInterval(() => { if (!document.hidden) load(); }, 60_000);
}
