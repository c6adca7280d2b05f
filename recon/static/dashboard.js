// The fleet dashboard: rows painted from their status (kept current by live.js), actions,
// filters, terminals and the logs drawer.
import { api, el, fmtBytes, setText } from "./recon.js";
import { LogsDrawer } from "./logs.js";
import { classify, describeLine, pointless, whenText } from "./status.js";
import { collapseColumns, paintDetail, toggleDetail } from "./rowdetail.js";
import { openTerminal } from "./hosts.js";
import { createFilter } from "./filter.js";
import { createLive } from "./live.js";
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

// -- counts and filtering (filter.js), kept current by live.js ------------------------
const filterInput = document.getElementById("filter");
// loaded() is first asked by renderCounts() below, once `live` exists.
const filter = createFilter({ panels, hostSections, loaded: () => live.loaded() });
const { renderCounts, applyFilter } = filter;
const live = createLive({ hostSections, rows: { applyService }, filter, refreshMs });
const { refresh } = live;
document.getElementById("refresh").addEventListener("click", () => refresh());

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
live.start();
