// The dashboard's history strips: every row's last 24 h and every host's reachability, from
// one GET /api/history/strips for the whole fleet (not one call per row), read when the page
// opens and every STRIPS_MS while it is visible. A row built later (its host expanded) is
// drawn from the data already read.
import { api } from "./recon.js";
import { availabilityText, drawStrip, pct } from "./strip.js";

const STRIPS_MS = 5 * 60 * 1000;
const HOURS = 24;
const BUCKETS = 48; // half an hour each

// panels: slug -> built row; sections: host name -> section.
export function createStrips({ panels, sections }) {
  let data = null;

  function paint(article) {
    const slot = article.querySelector("[data-strip]");
    const info = data && data.services[article.dataset.slug];
    if (!slot || !info) return;
    const opts = { hours: data.hours, bucketSeconds: data.bucket_seconds, label: `History of ${article.dataset.name} on ${article.dataset.host}` };
    slot.replaceChildren(drawStrip(info, opts));
    slot.title = availabilityText(info.availability);
  }

  function paintHost(section) {
    const slot = section.querySelector("[data-host-strip]");
    const info = data && data.hosts[section.dataset.host];
    if (!slot || !info) return;
    const svgNode = drawStrip(info, { hours: data.hours, bucketSeconds: data.bucket_seconds, label: `Reachability of ${section.dataset.host}`, host: true });
    const text = document.createElement("span");
    text.className = "avail";
    text.textContent = pct(info.availability["24h"]);
    text.setAttribute("aria-hidden", "true"); // the strip's label says it
    slot.replaceChildren(svgNode, text);
  }

  async function load() {
    if (document.hidden && data) return;
    try {
      data = await api("GET", `/api/history/strips?hours=${HOURS}&buckets=${BUCKETS}`);
    } catch (err) {
      return; // the strips are a glance: the rest of the page does not depend on them
    }
    for (const article of panels.values()) paint(article);
    for (const section of sections.values()) paintHost(section);
  }

  load();
  setInterval(load, STRIPS_MS);
  return { paint };
}
