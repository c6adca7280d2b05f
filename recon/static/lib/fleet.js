// The dashboard's model of the fleet, held whether or not a service's row is built: every
// service's config, from the page's data-fleet attribute (pages/routes.py, _fleet_data), and
// its last status, from GET /api/services and the event stream. Rows are views of it that
// exist only while their host is expanded (sections.js), so the counts, the filter and the
// host summaries read this model, never the rows.
import { classify } from "./status.js";

let data = null;

// The page's data-fleet, parsed once: {large, services: [[slug, name, host, unit, tags, kind,
// rolling actions], ...], rolling_hosts: [host, ...]}.
export function fleetData() {
  if (!data) data = JSON.parse(document.getElementById("dashboard").dataset.fleet);
  return data;
}

// One row of GET /api/services?view=compact as the object the full view has for that service
// (minus actions, tags and service, which the page has from data-fleet).
export function expand(columns, row) {
  const s = {};
  for (let i = 0; i < columns.length; i += 1) s[columns[i]] = row[i];
  return s;
}

// The services of an /api/services answer as objects, whether it is the compact view
// (columns + rows) or the full one (objects already).
export function servicesOf(answer) {
  return answer.columns ? answer.services.map((row) => expand(answer.columns, row)) : answer.services;
}

// panels: slug -> the built row (article) of that service, if its host shows it.
export function createFleet(panels) {
  const { services: list, large } = fleetData();
  const services = new Map(); // slug -> {slug, name, host, unit, tags, kind, status, actedAt}
  const hosts = new Map(); // host name -> its services' records, in config order
  for (const [slug, name, host, unit, tags, kind] of list) {
    const rec = { slug, name, host, unit, tags, kind, status: null, actedAt: 0 };
    services.set(slug, rec);
    if (!hosts.has(host)) hosts.set(host, []);
    hosts.get(host).push(rec);
  }
  const dirty = new Set(hosts.keys()); // hosts whose summary needs repainting

  // [key, word] of a service as the page shows it: its row's (which also says "Stopping…"
  // while an action runs) when it is built, else from its status.
  function stateOf(rec) {
    const article = panels.get(rec.slug);
    if (article) return [article.dataset.state, article.querySelector("[data-state-text]").textContent];
    return classify(rec.status);
  }

  return { services, hosts, large: Boolean(large), dirty, stateOf };
}
