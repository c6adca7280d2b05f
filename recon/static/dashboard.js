// The fleet dashboard: GET /api/services paints every panel from the monitor's snapshot, then
// the live event stream (/api/events) repaints what changes; actions, filters, terminals and
// the logs drawer. If the stream drops, EventSource resumes it (the server replays what was
// missed); a slow resync from the snapshot runs while the tab is visible anyway.
import { api, el, fmtAgo, fmtBytes, setText } from "./recon.js";
import { LogsDrawer } from "./logs.js";
import { classify, describeLine, pointless, whenText } from "./status.js";
import { collapseColumns, paintDetail, toggleDetail } from "./rowdetail.js";
import { openTerminal, paintFreshness, paintHost } from "./hosts.js";
import { createFilter } from "./filter.js";
import "./changes.js";
import "./rolling.js";

const root = document.getElementById("dashboard");
const refreshMs = Math.max(2, Number(root.dataset.refreshSeconds) || 30) * 1000;
const panels = new Map(); // slug -> article
for (const article of root.querySelectorAll("article.svc")) panels.set(article.dataset.slug, article);
const hostSections = new Map();
for (const section of root.querySelectorAll("section.host")) hostSections.set(section.dataset.host, section);

const drawer = new LogsDrawer(document.getElementById("logs"));
const drawerActions = document.getElementById("logs-actions");
const drawerFeedback = document.getElementById("logs-feedback");

const ACTION_VERB = {
  start: "Starting", stop: "Stopping", restart: "Restarting", reload: "Reloading",
  enable: "Enabling", disable: "Disabling", "reset-failed": "Resetting", mask: "Masking", unmask: "Unmasking",
};

export { classify };

// askedAt: when the status was asked for; a status asked for before this panel's last action
// answered is older than what the action returned, so it is not painted.
function applyService(s, askedAt = Infinity) {
  const article = panels.get(s.slug);
  if (!article || askedAt < (article._actedAt || 0)) return;
  article._status = s;
  if (article.dataset.busy) return; // the action's own state wins until it answers
  const [key, label] = classify(s);
  paintState(article, key, label);
  // Since when it is in its state: started (running), else its last state change.
  const [since, sinceTitle] = whenText(s.state === "active" ? s.since : s.state_changed || s.inactive_since || s.since);
  const sinceNode = article.querySelector('[data-f="since"]');
  setText(sinceNode, since);
  sinceNode.title = sinceTitle;
  setText(article.querySelector('[data-f="pid"]'), s.main_pid);
  setText(article.querySelector('[data-f="memory"]'), s.memory_bytes == null ? null : fmtBytes(s.memory_bytes));
  setText(article.querySelector('[data-f="restarts"]'), s.restarts);
  setText(article.querySelector('[data-f="enabled"]'), s.enabled);
  for (const cell of article.querySelectorAll(".cell-fact")) {
    cell.toggleAttribute("data-empty", cell.lastElementChild.textContent === "—");
  }
  // Buttons that cannot do anything now are disabled and say why (as Cockpit and
  // Supervisor offer Start only for a stopped service), instead of failing when clicked.
  for (const b of article.querySelectorAll("button[data-action]")) {
    const why = pointless(b.dataset.action, s, article.dataset.host);
    b.disabled = Boolean(why);
    b.title = why;
  }
  const desc = article.querySelector("[data-desc]");
  const text = describeLine(s, key);
  if (desc.textContent !== text) desc.textContent = text;
  desc.title = text;
  paintDetail(article, s, key);
  collapseColumns(article.closest(".svc-list"));
  if (drawerArticle() === article) syncDrawer(article);
}

function paintState(article, key, label) {
  article.dataset.state = key;
  setText(article.querySelector("[data-state-text]"), label);
  if (drawerArticle() === article) syncDrawer(article);
}

function applyHost(h) {
  const section = hostSections.get(h.name);
  if (section) paintHost(section, h);
}

// -- counts and filtering (filter.js) ---------------------------------------------------
const filterInput = document.getElementById("filter");
const { renderCounts, applyFilter } = createFilter({ panels, hostSections, loaded: () => Boolean(lastOk) });

// -- refresh loop ----------------------------------------------------------------------
const updated = document.getElementById("updated");
const fleetError = document.getElementById("fleet-error");
let lastOk = 0;
let timer = null;
let inflight = null;
let again = false; // a refresh was asked for while one was in flight

function paintUpdated() {
  for (const section of hostSections.values()) paintFreshness(section);
  if (inflight && !lastOk) { updated.textContent = "Loading…"; return; }
  if (!lastOk) return;
  if (live) {
    updated.textContent = "Live";
    updated.classList.remove("stale");
    updated.title = "Changes on the hosts appear here as they happen";
    return;
  }
  const age = (Date.now() - lastOk) / 1000;
  updated.textContent = inflight ? "Refreshing…" : `Updated ${fmtAgo(age)} · reconnecting`;
  updated.classList.toggle("stale", age * 1000 > refreshMs * 2 + 5000);
  updated.title = `Last status: ${new Date(lastOk).toLocaleString()}; the live stream is down, so the page refreshes every ${refreshMs / 1000} s while visible`;
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  if (!document.hidden) timer = setTimeout(refresh, refreshMs);
}

export function refresh({ fresh = false } = {}) {
  if (inflight) {
    again = again || fresh;
    return inflight;
  }
  clearTimeout(timer);
  inflight = (async () => {
    paintUpdated();
    try {
      const askedAt = performance.now();
      const data = await api("GET", "/api/services");
      for (const h of data.hosts) applyHost(h);
      for (const s of data.services) applyService(s, askedAt);
      lastOk = Date.now();
      fleetError.hidden = true;
      if (!document.documentElement.dataset.statusLoaded) {
        document.documentElement.dataset.statusLoaded = "1";
        performance.mark("recon:statuses");
        // The frame after next has been painted: what bench/ui_first_paint.py measures.
        requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("recon:statuses-painted")));
      }
    } catch (err) {
      fleetError.replaceChildren(el("strong", { text: "Could not refresh the status: " }), err.message,
        err.hint ? el("span", { class: "hint", text: ` ${err.hint}` }) : null);
      fleetError.hidden = false;
    } finally {
      inflight = null;
      renderCounts();
      applyFilter();
      paintUpdated();
      schedule();
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return inflight;
}

function wake() {
  if (document.hidden) { clearTimeout(timer); timer = null; return; }
  if (Date.now() - lastOk >= refreshMs) refresh();
  else if (!timer && !inflight) schedule();
}
document.addEventListener("visibilitychange", wake);

// -- live events -----------------------------------------------------------------------
let live = false;
function connectEvents() {
  const stream = new EventSource("/api/events");
  stream.addEventListener("open", () => { live = true; paintUpdated(); });
  stream.addEventListener("error", () => {
    live = false;
    paintUpdated();
    // CLOSED: the server refused the stream (e.g. the login expired); retry later.
    if (stream.readyState === EventSource.CLOSED) setTimeout(connectEvents, refreshMs);
  });
  stream.addEventListener("snapshot", (ev) => {
    const data = JSON.parse(ev.data);
    for (const h of data.hosts) applyHost(h);
    for (const s of data.services) applyService(s);
    lastOk = Date.now();
    afterRepaint();
  });
  stream.addEventListener("unit", (ev) => {
    applyService(JSON.parse(ev.data).service);
    lastOk = Date.now();
    afterRepaint();
  });
  // A host going down or coming back changes every row of it: repaint them from the snapshot.
  stream.addEventListener("host", (ev) => {
    applyHost(JSON.parse(ev.data).host);
    refresh();
  });
}

function afterRepaint() {
  renderCounts();
  applyFilter();
  paintUpdated();
}
window.addEventListener("focus", wake);
document.getElementById("refresh").addEventListener("click", () => refresh());
setInterval(paintUpdated, 1000);

// -- actions ---------------------------------------------------------------------------
const confirmDialog = document.getElementById("confirm");

function confirmAction(action, article) {
  if (!["stop", "restart", "disable", "mask"].includes(action)) return Promise.resolve(true);
  const verb = action[0].toUpperCase() + action.slice(1);
  setText(document.getElementById("confirm-title"), `${verb} ${article.dataset.name}?`);
  setText(document.getElementById("confirm-text"),
    `This runs systemctl ${action} ${article.dataset.unit} on ${article.dataset.host}.`);
  setText(document.getElementById("confirm-ok"), verb);
  confirmDialog.returnValue = "";
  return new Promise((resolve) => {
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "ok"), { once: true });
    confirmDialog.showModal();
  });
}

function setBusy(article, action) {
  for (const b of article.querySelectorAll("button[data-action]")) b.disabled = Boolean(action);
  if (action) {
    article.dataset.busy = action;
    paintState(article, "busy", `${ACTION_VERB[action]}…`);
  } else {
    delete article.dataset.busy;
  }
  article.setAttribute("aria-busy", action ? "true" : "false");
}

function showFeedback(article, ok, title, details) {
  const box = article.querySelector("[data-feedback]");
  const close = el("button", {
    type: "button", class: "btn btn-sm btn-quiet fb-close", "aria-label": "Dismiss",
    onclick: () => { box.hidden = true; box.replaceChildren(); },
  }, "×");
  box.className = `feedback ${ok ? "fb-ok" : "fb-error"}`;
  box.replaceChildren(el("div", { class: "fb-title" }, el("span", { text: title }), close), ...details);
  box.hidden = false;
  if (drawerArticle() === article) { // the row is under the drawer: say it there too
    drawerFeedback.className = `drawer-feedback ${ok ? "fb-ok" : "fb-error"}`;
    drawerFeedback.textContent = title;
    drawerFeedback.hidden = false;
  }
}

function resultDetails(r) {
  const out = [];
  if (r.message) out.push(el("p", { text: r.message }));
  if (r.hint) out.push(el("p", { class: "hint", text: `Fix: ${r.hint}` }));
  const text = [r.stdout, r.stderr].filter(Boolean).join("\n");
  if (text) out.push(el("pre", { class: "output", text }));
  return out;
}

async function act(article, action) {
  if (article.dataset.busy) return;
  if (!(await confirmAction(action, article))) return;
  const slug = article.dataset.slug;
  setBusy(article, action);
  const started = performance.now();
  let status = null;
  try {
    const r = await api("POST", `/api/services/${encodeURIComponent(slug)}/${action}`);
    status = r.status;
    const secs = ((r.duration_ms ?? performance.now() - started) / 1000).toFixed(2);
    showFeedback(article, r.success,
      r.success ? `${action} ${article.dataset.unit}: done in ${secs} s (exit ${r.exit_code})`
        : `${action} ${article.dataset.unit} failed (exit ${r.exit_code})`, resultDetails(r));
  } catch (err) {
    showFeedback(article, false, `${action} ${article.dataset.unit} failed: ${err.code}`,
      resultDetails({ ...err.body, message: err.message, hint: err.hint }));
  } finally {
    setBusy(article, null);
    article._actedAt = performance.now();
    if (status) applyService(status);
    else if (article._status) applyService(article._status);
    renderCounts();
    applyFilter();
    refresh({ fresh: true }); // the host's other services may have changed too
  }
}

// -- the logs drawer carries the service's state and actions (it covers the row's) ----
function drawerArticle() {
  return drawer.service && !drawer.node.hidden ? panels.get(drawer.service.slug) || null : null;
}

function syncDrawer(article) {
  const badge = document.getElementById("logs-state");
  badge.dataset.state = article.dataset.state;
  setText(badge.querySelector("[data-state-text]"), article.querySelector("[data-state-text]").textContent);
  const rowButtons = [...article.querySelectorAll(".cell-actions button[data-action]")];
  if (drawerActions.dataset.slug !== article.dataset.slug) {
    drawerActions.dataset.slug = article.dataset.slug;
    drawerFeedback.hidden = true;
    drawerActions.replaceChildren(...rowButtons.map((b) => el("button", {
      type: "button", class: b.className.replace(" act", ""), dataset: { action: b.dataset.action },
      "aria-label": b.getAttribute("aria-label"), text: b.textContent,
    })));
  }
  for (const b of rowButtons) {
    const mirror = drawerActions.querySelector(`button[data-action="${b.dataset.action}"]`);
    if (mirror) { mirror.disabled = b.disabled; mirror.title = b.title; }
  }
}

function openDrawer(article, trigger) {
  drawer.open({ slug: article.dataset.slug, name: article.dataset.name, unit: article.dataset.unit }, trigger);
  syncDrawer(article);
}

drawerActions.addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-action]");
  const article = drawerArticle();
  if (button && !button.disabled && article) act(article, button.dataset.action);
});

// -- wiring ----------------------------------------------------------------------------

root.addEventListener("click", (ev) => {
  const button = ev.target.closest("button");
  if (!button || button.disabled) return;
  const article = button.closest("article.svc");
  if (button.dataset.action && article) act(article, button.dataset.action);
  else if ((button.hasAttribute("data-logs") || button.hasAttribute("data-full-logs")) && article) {
    openDrawer(article, button);
  } else if (button.hasAttribute("data-toggle-detail") && article) toggleDetail(article);
  else if (button.dataset.terminal) openTerminal(hostSections.get(button.dataset.terminal), button);
});

document.addEventListener("keydown", (ev) => {
  if (ev.key === "/" && !["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)
      && !confirmDialog.open) {
    ev.preventDefault();
    filterInput.focus();
  }
});

renderCounts();
refresh();
connectEvents();
