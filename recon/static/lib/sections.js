// The dashboard's host sections. Each header sums its services up by state from the page's
// model (fleet.js), so a collapsed host still tells its story; a host expands and collapses
// (its toggle is the host's name); and a host's rows exist only while it is expanded.
//
// One way to a row: pages/routes.py renders one <template> per row kind (the buttons this
// user may use on a service) with the same Jinja macro as a server-rendered row, and
// buildRow() clones it and puts the service's slug, name, host and unit where the template
// holds the placeholder's tokens (as attribute values and text: never parsed as markup).
// Below pages.routes.is_large the server renders every row instead (and no template), as it
// always did: there a collapsed host's rows are only hidden. On a large fleet a host that
// collapses drops its rows, and expanding it builds them again.
//
// Which hosts are expanded: the user's choice (kept in localStorage, per host) wins; else, on a
// small fleet, every host; on a large one, the hosts that have shown a problem (a service not
// running, the host down or failing) since the page loaded, which stay expanded until the user
// collapses them. While a filter is active the hosts with matches are expanded instead, as
// long as at most FILTER_ROWS rows are built for it; the others show how many match.
// "Collapse all" / "Expand all" set every host's choice at once (Expand all only on a small
// fleet: on a large one it would build every row). "Problems first" (kept in localStorage)
// moves the hosts with a problem to the top, in config order among themselves.
import { el } from "./recon.js";

const SUMMARY = [ // key, word: the toolbar's states (filter.js), and pending
  ["running", "Running"], ["busy", "Changing"], ["pending", "Pending"], ["idle", "Idle"], ["stopped", "Stopped"],
  ["crashloop", "Crash-looping"], ["unhealthy", "Unhealthy"], ["failed", "Failed"], ["missing", "Not found"], ["masked", "Masked"], ["unreachable", "Unreachable"],
  ["unknown", "Unknown"],
];
const PROBLEMS = new Set(["stopped", "crashloop", "unhealthy", "failed", "missing", "masked", "unreachable", "unknown"]);
const FILTER_ROWS = 300; // rows a filter may build in hosts that were collapsed
const STORE = "recon.dashboard.hosts"; // localStorage: {host: true (expanded) | false}
const ORDER = "recon.dashboard.problems-first"; // localStorage: "1" when on
const TOKEN = /__(slug|name|host|unit)__/g; // pages.routes.PLACEHOLDER's values

function loadChoices() {
  try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (err) { return {}; }
}

// root: #dashboard; fleet: fleet.js's model; panels: slug -> built row; rows: rows.js's;
// built(article): after a row was built (its host expanded), to draw what is not status.
export function createSections({ root, fleet, panels, rows, built: onBuilt = () => {} }) {
  const sections = new Map(); // host name -> section
  for (const section of root.querySelectorAll("section.host")) sections.set(section.dataset.host, section);
  const templates = new Map(); // row kind -> <template>
  for (const t of root.querySelectorAll("template[data-row-kind]")) templates.set(Number(t.dataset.rowKind), t);
  const choices = loadChoices();
  const latched = new Set(); // hosts that showed a problem: expanded by default from then on
  let matches = null; // while a filter is active: host -> its number of matching services
  let filterOpen = new Set(); // ... and the hosts with matches it expands
  let filterChoices = new Map(); // ... and the ones the user toggled meanwhile
  const container = root.querySelector("#hosts");
  let problemsFirst = false;
  try { problemsFirst = localStorage.getItem(ORDER) === "1"; } catch (err) { /* private mode */ }
  let orderSig = "";

  function wantOpen(host) {
    if (matches && matches.has(host)) {
      return filterChoices.has(host) ? filterChoices.get(host) : filterOpen.has(host);
    }
    if (host in choices) return choices[host];
    return !fleet.large || latched.has(host);
  }

  const builtRows = (host) => (fleet.hosts.get(host) || []).some((rec) => panels.has(rec.slug));

  function buildRow(rec) {
    const article = document.importNode(templates.get(rec.kind).content.firstElementChild, true);
    const values = { slug: rec.slug, name: rec.name, host: rec.host, unit: rec.unit };
    const fill = (text) => text.replace(TOKEN, (_, key) => values[key]);
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = article; node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        if (node.data.includes("__")) node.data = fill(node.data);
      } else {
        for (const attr of node.attributes) if (attr.value.includes("__")) attr.value = fill(attr.value);
      }
    }
    article.dataset.tags = rec.tags.join(" ");
    const line = article.querySelector(".name-line");
    for (const tag of rec.tags) line.append(" ", el("span", { class: "tag", text: tag }));
    return article;
  }

  // Shows the host expanded or collapsed as wantOpen() says, building or dropping its rows.
  function render(host) {
    const section = sections.get(host);
    if (!section) return;
    const open = wantOpen(host);
    const list = section.querySelector("[data-rows]");
    section.dataset.open = open ? "yes" : "no";
    section.querySelector("[data-toggle-host]").setAttribute("aria-expanded", open ? "true" : "false");
    if (!list) return;
    if (list.hidden === !open && (!fleet.large || open === builtRows(host))) return;
    const recs = fleet.hosts.get(host) || [];
    if (open) {
      const built = recs.filter((rec) => !panels.has(rec.slug)).map((rec) => {
        const article = buildRow(rec);
        panels.set(rec.slug, article);
        return article;
      });
      list.append(...built);
      for (const article of built) { rows.repaint(article); onBuilt(article); }
    } else if (fleet.large) {
      for (const rec of recs) {
        const article = panels.get(rec.slug);
        if (article) { article.remove(); panels.delete(rec.slug); }
      }
    }
    list.hidden = !open;
  }

  function summaryKey(rec) {
    if (rec.status && rec.status.pending) return "pending";
    return fleet.stateOf(rec)[0];
  }

  // The header's counts by state, and whether the host has a problem.
  function summarise(host) {
    const section = sections.get(host);
    if (!section) return;
    const recs = fleet.hosts.get(host) || [];
    const tally = new Map();
    for (const rec of recs) {
      const key = summaryKey(rec);
      tally.set(key, (tally.get(key) || 0) + 1);
    }
    const shown = SUMMARY.filter(([key]) => tally.get(key));
    const text = `${recs.length} service${recs.length === 1 ? "" : "s"}`;
    const node = section.querySelector("[data-summary]");
    const signature = [text, ...shown.map(([key]) => `${key}:${tally.get(key)}`)].join(" ");
    if (node.dataset.sig !== signature) {
      node.dataset.sig = signature;
      node.replaceChildren(text, ...shown.flatMap(([key, word]) => [" ", el("span", {
        class: `hs count-${key}`, dataset: { hs: key },
      }, el("span", { class: "dot", "aria-hidden": "true" }), `${tally.get(key)} ${word}`)]));
    }
    const host_ = section._host;
    const problem = shown.some(([key]) => PROBLEMS.has(key))
      || Boolean(host_ && host_.state !== "pending" && (!host_.reachable || host_.error));
    section.dataset.problem = problem ? "yes" : "no";
    if (problem) latched.add(host);
  }

  // After statuses or host states changed: the summaries of the hosts they touched, and
  // each of those expanded if it now has a problem.
  function update() {
    const hosts = [...fleet.dirty];
    fleet.dirty.clear();
    for (const host of hosts) {
      summarise(host);
      render(host);
    }
    if (hosts.length) reorder();
  }

  // The host sections in config order, or with the hosts that have a problem first. The DOM
  // order moves (not CSS order), so the keyboard and a screen reader meet them in the order
  // they are shown; the element that had the focus gets it back.
  function reorder() {
    if (!container) return;
    const all = [...sections.values()];
    const want = problemsFirst
      ? [...all.filter((s) => s.dataset.problem === "yes"), ...all.filter((s) => s.dataset.problem !== "yes")]
      : all;
    const sig = want.map((s) => s.dataset.host).join("\n");
    if (sig === orderSig) return;
    orderSig = sig;
    const current = [...container.children];
    if (current.length === want.length && current.every((node, i) => node === want[i])) return;
    const focused = document.activeElement;
    container.append(...want);
    if (focused && focused !== document.body && container.contains(focused)) focused.focus({ preventScroll: true });
  }

  function setProblemsFirst(on) {
    problemsFirst = Boolean(on);
    try { localStorage.setItem(ORDER, problemsFirst ? "1" : "0"); } catch (err) { /* private mode */ }
    reorder();
  }

  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(choices)); } catch (err) { /* private mode */ }
  }

  // Every host expanded or collapsed at once, remembered as each host's own choice.
  function setAll(open) {
    for (const host of sections.keys()) choices[host] = open;
    if (matches) for (const host of matches.keys()) filterChoices.set(host, open);
    save();
    for (const host of sections.keys()) render(host);
  }

  // perHost: host -> number of services the filter shows, or null when no filter is active.
  function filter(perHost) {
    const before = matches;
    if (!perHost) {
      if (!before) return;
      matches = null;
      filterOpen = new Set();
      filterChoices = new Map();
    } else {
      let budget = FILTER_ROWS;
      const open = new Set();
      for (const host of perHost.keys()) {
        const size = (fleet.hosts.get(host) || []).length;
        if (builtRows(host)) open.add(host);
        else if (size <= budget) { open.add(host); budget -= size; }
      }
      matches = perHost;
      filterOpen = open;
      for (const host of filterChoices.keys()) if (!perHost.has(host)) filterChoices.delete(host);
    }
    for (const [host, section] of sections) {
      const n = matches ? matches.get(host) || 0 : 0;
      const badge = section.querySelector("[data-matches]");
      const text = n ? `${n} match${n === 1 ? "" : "es"}` : "";
      if (badge.textContent !== text) badge.textContent = text;
      badge.hidden = !n;
      if ((before && before.has(host)) || (matches && matches.has(host))) render(host);
    }
  }

  // The user's click on the host's name.
  function toggle(host) {
    const open = sections.get(host).dataset.open !== "yes";
    if (matches && matches.has(host)) filterChoices.set(host, open);
    else {
      choices[host] = open;
      save();
    }
    render(host);
  }

  return { sections, update, filter, toggle, setAll, setProblemsFirst, problemsFirst: () => problemsFirst };
}
