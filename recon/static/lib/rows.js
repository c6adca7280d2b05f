// A service's status taken into the page's model (fleet.js), and its row, when built, painted
// from it: the state (colour and word), the facts, the buttons that make sense now, the
// description and the detail. The host headers are hosts.js's and sections.js's.
import { fmtBytes, setText } from "./recon.js";
import { changedText, classify, describeLine, pointless, whenText } from "./status.js";
import { collapseColumns, paintDetail } from "./rowdetail.js";
import { paintHealth } from "./health.js";

// panels: slug -> article (the built rows); fleet: fleet.js's model. painted(article): after a
// row changed (the logs drawer copies the row it covers).
export function createRows({ panels, fleet, painted }) {
  function paintState(article, key, label) {
    article.dataset.state = key;
    fleet.dirty.add(article.dataset.host);
    setText(article.querySelector("[data-state-text]"), label);
    painted(article);
  }

  // askedAt: when the status was asked for; a status asked for before this service's last
  // action answered is older than what the action returned, so it is not taken.
  function applyService(s, askedAt = Infinity) {
    const rec = fleet.services.get(s.slug);
    if (!rec || askedAt < rec.actedAt) return;
    rec.status = s;
    fleet.dirty.add(rec.host);
    const article = panels.get(s.slug);
    if (article) paintRow(article, s);
  }

  // An action on the service answered now: statuses asked for before are older.
  function acted(article) {
    const rec = fleet.services.get(article.dataset.slug);
    if (rec) rec.actedAt = performance.now();
  }

  // The row again from the last status the page has (after an action, or once it is built).
  function repaint(article) {
    const rec = fleet.services.get(article.dataset.slug);
    if (rec && rec.status) paintRow(article, rec.status);
  }

  function paintRow(article, s) {
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
    paintHealth(article.querySelector("[data-health-badge]"), s);
    const desc = article.querySelector("[data-desc]");
    const text = [describeLine(s, key), changedText(s)].filter(Boolean).join(" · ");
    if (desc.textContent !== text) desc.textContent = text;
    desc.title = text;
    paintDetail(article, s, key);
    collapseColumns(article.closest(".svc-list"));
    painted(article); // again: the buttons' disabled state changed after paintState's call
  }

  return { applyService, paintState, acted, repaint };
}
