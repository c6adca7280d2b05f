// One unit on every host (/units/<unit>): the dashboard's rows, model, live updates, actions,
// filter and logs drawer (the same modules), over the services of this one unit, in one list
// instead of one section per host. There are no host sections: a host that is down shows in
// its row's state (Unreachable).
import { LogsDrawer } from "../lib/logs.js";
import { toggleDetail } from "../lib/rowdetail.js";
import { createFilter } from "../lib/filter.js";
import { createRows } from "../lib/rows.js";
import { createDrawerRow } from "../lib/drawerrow.js";
import { createActions } from "../lib/actions.js";
import { createLive } from "../lib/live.js";
import { createFleet } from "../lib/fleet.js";
import { createStrips } from "../lib/rowstrips.js";

const root = document.getElementById("dashboard");
const refreshMs = Math.max(2, Number(root.dataset.refreshSeconds) || 30) * 1000;
const panels = new Map();
for (const article of root.querySelectorAll("article.svc")) panels.set(article.dataset.slug, article);
const fleet = createFleet(panels);

// What live.js and filter.js ask of the host sections, for a page that has none.
const sections = { sections: new Map(), update: () => fleet.dirty.clear(), filter: () => {} };
const drawerRow = createDrawerRow(new LogsDrawer(document.getElementById("logs")), panels);
const rows = createRows({ panels, fleet, painted: drawerRow.follow });
const filter = createFilter({ fleet, panels, sections, loaded: () => live.loaded() });
const live = createLive({ fleet, sections, rows, filter, refreshMs });
const act = createActions({ rows, drawerRow, filter, refresh: live.refresh });
drawerRow.onAction(act);
createStrips({ panels, sections: new Map() });

document.getElementById("refresh").addEventListener("click", () => live.refresh());
root.addEventListener("click", (ev) => {
  const button = ev.target.closest("button");
  if (!button || button.disabled) return;
  const article = button.closest("article.svc");
  if (!article) return;
  if (button.dataset.action) act(article, button.dataset.action);
  else if (button.hasAttribute("data-logs") || button.hasAttribute("data-full-logs")) drawerRow.open(article, button);
  else if (button.hasAttribute("data-toggle-detail")) toggleDetail(article);
});

live.start();
