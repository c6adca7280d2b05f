// The fleet dashboard's entry: builds the page's model of the fleet (fleet.js) and wires the
// modules that keep it current (live.js), paint its rows (rows.js) and host sections
// (sections.js, which also builds a host's rows when it is expanded), act on them
// (actions.js), filter them (filter.js) and show their logs (logs.js, with drawerrow.js),
// plus the page's clicks and keys.
import { LogsDrawer } from "../lib/logs.js";
import { toggleDetail } from "../lib/rowdetail.js";
import { openTerminal } from "../lib/hosts.js";
import { createFilter } from "../lib/filter.js";
import { createRows } from "../lib/rows.js";
import { createDrawerRow } from "../lib/drawerrow.js";
import { createActions } from "../lib/actions.js";
import { createLive } from "../lib/live.js";
import { createFleet } from "../lib/fleet.js";
import { createSections } from "../lib/sections.js";
import { createStrips } from "../lib/rowstrips.js";
import "../lib/changes.js";
import "../lib/rolling.js";

const root = document.getElementById("dashboard");
const refreshMs = Math.max(2, Number(root.dataset.refreshSeconds) || 30) * 1000;
// slug -> article: the rows built (the server's, on a small fleet; sections.js adds and drops).
const panels = new Map();
for (const article of root.querySelectorAll("article.svc")) panels.set(article.dataset.slug, article);
const fleet = createFleet(panels);

const drawerRow = createDrawerRow(new LogsDrawer(document.getElementById("logs")), panels);
const rows = createRows({ panels, fleet, painted: drawerRow.follow });
const sections = createSections({ root, fleet, panels, rows, built: (article) => strips.paint(article) });
const strips = createStrips({ panels, sections: sections.sections });
// loaded() is first asked by renderCounts(), once `live` exists.
const filter = createFilter({ fleet, panels, sections, loaded: () => live.loaded() });
const live = createLive({ fleet, sections, rows, filter, refreshMs });
const act = createActions({ rows, drawerRow, filter, refresh: live.refresh });
drawerRow.onAction(act);

document.getElementById("refresh").addEventListener("click", () => live.refresh());

// The view: every host at once, problems first, and "What changed" from the top.
for (const [id, open] of [["collapse-all", false], ["expand-all", true]]) {
  const button = document.getElementById(id);
  if (button) button.addEventListener("click", () => { sections.setAll(open); filter.applyFilter(); });
}
const problemsFirst = document.getElementById("problems-first");
problemsFirst.checked = sections.problemsFirst();
problemsFirst.addEventListener("change", () => sections.setProblemsFirst(problemsFirst.checked));
const changes = document.getElementById("changes");
document.getElementById("jump-changes").addEventListener("click", (ev) => {
  ev.preventDefault();
  changes.open = true; // its toggle event loads the list (changes.js)
  changes.scrollIntoView({ block: "start" });
  changes.querySelector("summary").focus({ preventScroll: true });
});

root.addEventListener("click", (ev) => {
  const button = ev.target.closest("button");
  if (!button || button.disabled) return;
  const article = button.closest("article.svc");
  if (button.dataset.action && article) act(article, button.dataset.action);
  else if ((button.hasAttribute("data-logs") || button.hasAttribute("data-full-logs")) && article) {
    drawerRow.open(article, button);
  } else if (button.hasAttribute("data-toggle-detail") && article) toggleDetail(article);
  else if (button.dataset.terminal) openTerminal(sections.sections.get(button.dataset.terminal), button);
  else if (button.hasAttribute("data-toggle-host")) {
    sections.toggle(button.closest("section.host").dataset.host);
    filter.applyFilter(); // the rows just built are shown as the filter says
  }
});

const filterInput = document.getElementById("filter");
const confirmDialog = document.getElementById("confirm");
document.addEventListener("keydown", (ev) => {
  if (ev.key === "/" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)
      && !confirmDialog.open) {
    ev.preventDefault();
    filterInput.focus();
  }
});

live.start();
