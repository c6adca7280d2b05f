// The state counts (click one to show only those) and the text / tag / "problems only" filter
// of the dashboard's services, whether their rows are built or not.
import { el } from "./recon.js";

const STATES = [ // key, label in the counts, counts as a problem
  ["running", "Running", false],
  ["busy", "Changing", false],
  ["idle", "Idle", false],
  ["stopped", "Stopped", true],
  ["crashloop", "Crash-looping", true],
  ["unhealthy", "Unhealthy", true],
  ["failed", "Failed", true],
  ["missing", "Not found", true],
  ["masked", "Masked", true],
  ["unreachable", "Unreachable", true],
  ["unknown", "Unknown", true],
];

// fleet: fleet.js's model; panels: slug -> built row; sections: sections.js's; loaded(): whether
// a status arrived. Counts and matches are taken from the model, so they cover the services
// of collapsed hosts too (whose rows are not built).
export function createFilter({ fleet, panels, sections, loaded }) {
  const counts = document.getElementById("counts");
  const filterInput = document.getElementById("filter");
  const problemsOnly = document.getElementById("problems-only");
  const noMatch = document.getElementById("no-match");
  const tagFilter = document.getElementById("tag-filter"); // only when some service has tags
  const activeStates = new Set();

  function renderCounts() {
    if (!loaded()) { // nothing is known yet: say so, never "0 Running" in green
      counts.replaceChildren(el("span", { class: "count count-loading", "aria-live": "polite" },
        el("span", { class: "dot", "aria-hidden": "true" }), "Loading status…"));
      return;
    }
    const tally = Object.fromEntries(STATES.map(([key]) => [key, 0]));
    for (const rec of fleet.services.values()) {
      const [key] = fleet.stateOf(rec);
      if (key in tally) tally[key] += 1;
    }
    counts.replaceChildren(...STATES.filter(([key]) => tally[key] > 0 || key === "running" || activeStates.has(key))
      .map(([key, label]) => el("button", {
        type: "button", class: `count count-${key}`, "aria-pressed": activeStates.has(key) ? "true" : "false",
        dataset: { count: key }, title: `Show only ${label.toLowerCase()} services`,
        onclick: () => { activeStates.has(key) ? activeStates.delete(key) : activeStates.add(key); renderCounts(); applyFilter(); },
      }, el("span", { class: "dot", "aria-hidden": "true" }), el("strong", { text: String(tally[key]) }), ` ${label}`)));
  }

  function matches(rec, label, terms) {
    if (!terms.length) return true;
    if (rec.hay === undefined) rec.hay = [rec.name, rec.slug, rec.unit, rec.host, rec.tags.join(" ")].join("\n").toLowerCase();
    const s = rec.status || {};
    const hay = `${rec.hay}\n${[label, s.description || "", s.state || ""].join("\n").toLowerCase()}`;
    return terms.every((t) => hay.includes(t));
  }

  function applyFilter() {
    const terms = filterInput.value.toLowerCase().split(/\s+/).filter(Boolean);
    const problemKeys = new Set(STATES.filter((s) => s[2]).map((s) => s[0]));
    const tag = tagFilter ? tagFilter.value : "";
    const filtering = Boolean(terms.length || problemsOnly.checked || activeStates.size || tag);
    let shown = 0;
    const perHost = new Map(); // host -> services shown
    for (const rec of fleet.services.values()) {
      let visible = true;
      if (filtering) {
        const [key, label] = fleet.stateOf(rec);
        visible = matches(rec, label, terms)
          && (!tag || rec.tags.includes(tag))
          && (!problemsOnly.checked || problemKeys.has(key))
          && (!activeStates.size || activeStates.has(key));
      }
      rec.visible = visible;
      if (visible) {
        shown += 1;
        perHost.set(rec.host, (perHost.get(rec.host) || 0) + 1);
      }
    }
    sections.filter(filtering ? perHost : null); // expands hosts with matches: builds their rows
    for (const [slug, article] of panels) {
      const hide = !fleet.services.get(slug).visible;
      if (article.hidden !== hide) article.hidden = hide;
    }
    for (const [host, section] of sections.sections) {
      // An unreachable host stays visible under "problems only": the host is the problem.
      const hide = filtering && !perHost.has(host) && !(problemsOnly.checked && section.dataset.reachable === "no"
        && !terms.length && !activeStates.size);
      if (section.hidden !== hide) section.hidden = hide;
    }
    noMatch.hidden = !(filtering && shown === 0);
  }

  filterInput.addEventListener("input", applyFilter);
  problemsOnly.addEventListener("change", applyFilter);
  if (tagFilter) tagFilter.addEventListener("change", applyFilter);
  filterInput.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && filterInput.value) { filterInput.value = ""; applyFilter(); }
  });

  return { renderCounts, applyFilter };
}
