// The state counts (click one to show only those) and the text / "problems only" filter of
// the dashboard's rows.
import { el } from "./recon.js";

const STATES = [ // key, label in the counts, counts as a problem
  ["running", "Running", false],
  ["busy", "Changing", false],
  ["stopped", "Stopped", true],
  ["failed", "Failed", true],
  ["missing", "Not found", true],
  ["masked", "Masked", true],
  ["unreachable", "Unreachable", true],
  ["unknown", "Unknown", true],
];

export function createFilter({ panels, hostSections, loaded }) {
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
    for (const article of panels.values()) if (article.dataset.state in tally) tally[article.dataset.state] += 1;
    counts.replaceChildren(...STATES.filter(([key]) => tally[key] > 0 || key === "running" || activeStates.has(key))
      .map(([key, label]) => el("button", {
        type: "button", class: `count count-${key}`, "aria-pressed": activeStates.has(key) ? "true" : "false",
        dataset: { count: key }, title: `Show only ${label.toLowerCase()} services`,
        onclick: () => { activeStates.has(key) ? activeStates.delete(key) : activeStates.add(key); renderCounts(); applyFilter(); },
      }, el("span", { class: "dot", "aria-hidden": "true" }), el("strong", { text: String(tally[key]) }), ` ${label}`)));
  }

  function matches(article, terms) {
    if (!terms.length) return true;
    const s = article._status || {};
    const label = article.querySelector("[data-state-text]").textContent;
    const hay = [article.dataset.name, article.dataset.slug, article.dataset.unit, article.dataset.host, article.dataset.tags,
      label, s.description || "", s.state || ""].join("\n").toLowerCase();
    return terms.every((t) => hay.includes(t));
  }

  function applyFilter() {
    const terms = filterInput.value.toLowerCase().split(/\s+/).filter(Boolean);
    const problemKeys = new Set(STATES.filter((s) => s[2]).map((s) => s[0]));
    let shown = 0;
    for (const article of panels.values()) {
      const key = article.dataset.state;
      const tag = tagFilter ? tagFilter.value : "";
      const visible = matches(article, terms)
        && (!tag || article.dataset.tags.split(" ").includes(tag))
        && (!problemsOnly.checked || problemKeys.has(key))
        && (!activeStates.size || activeStates.has(key));
      article.hidden = !visible;
      if (visible) shown += 1;
    }
    const filtering = terms.length || problemsOnly.checked || activeStates.size || (tagFilter && tagFilter.value);
    for (const section of hostSections.values()) {
      const any = [...section.querySelectorAll("article.svc")].some((a) => !a.hidden);
      // An unreachable host stays visible under "problems only": the host is the problem.
      section.hidden = Boolean(filtering) && !any && !(problemsOnly.checked && section.dataset.reachable === "no"
        && !terms.length && !activeStates.size);
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
