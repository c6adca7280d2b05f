// The fleet dashboard's entry: finds the rows and host sections and wires the modules that
// keep them current (live.js), paint them (rows.js), act on them (actions.js), filter them
// (filter.js) and show their logs (logs.js, with drawerrow.js), plus the page's clicks and keys.
import { LogsDrawer } from "../lib/logs.js";
import { toggleDetail } from "../lib/rowdetail.js";
import { openTerminal } from "../lib/hosts.js";
import { createFilter } from "../lib/filter.js";
import { createRows } from "../lib/rows.js";
import { createDrawerRow } from "../lib/drawerrow.js";
import { createActions } from "../lib/actions.js";
import { createLive } from "../lib/live.js";
import "../lib/changes.js";
import "../lib/rolling.js";

const root = document.getElementById("dashboard");
const refreshMs = Math.max(2, Number(root.dataset.refreshSeconds) || 30) * 1000;
const panels = new Map(); // slug -> article
for (const article of root.querySelectorAll("article.svc")) panels.set(article.dataset.slug, article);
const hostSections = new Map();
for (const section of root.querySelectorAll("section.host")) hostSections.set(section.dataset.host, section);

const drawerRow = createDrawerRow(new LogsDrawer(document.getElementById("logs")), panels);
const rows = createRows({ panels, painted: drawerRow.follow });
// loaded() is first asked by renderCounts() below, once `live` exists.
const filter = createFilter({ panels, hostSections, loaded: () => live.loaded() });
const live = createLive({ hostSections, rows, filter, refreshMs });
const act = createActions({ rows, drawerRow, filter, refresh: live.refresh });
drawerRow.onAction(act);

document.getElementById("refresh").addEventListener("click", () => live.refresh());

root.addEventListener("click", (ev) => {
  const button = ev.target.closest("button");
  if (!button || button.disabled) return;
  const article = button.closest("article.svc");
  if (button.dataset.action && article) act(article, button.dataset.action);
  else if ((button.hasAttribute("data-logs") || button.hasAttribute("data-full-logs")) && article) {
    drawerRow.open(article, button);
  } else if (button.hasAttribute("data-toggle-detail") && article) toggleDetail(article);
  else if (button.dataset.terminal) openTerminal(hostSections.get(button.dataset.terminal), button);
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

filter.renderCounts();
live.start();
