// A row's actions (POST /api/services/<slug>/<action>): the ones that take something away ask
// first; the row shows the action in progress, then how it went (exit code, time, output).
import { api, askConfirm, el } from "./recon.js";

const ACTION_VERB = {
  start: "Starting", stop: "Stopping", restart: "Restarting", reload: "Reloading",
  enable: "Enabling", disable: "Disabling", "reset-failed": "Resetting", mask: "Masking", unmask: "Unmasking",
};

// rows: rows.js's painters; drawerRow: drawerrow.js's; filter: filter.js's counts and filter;
// refresh(): live.js's resync from the snapshot. Returns act(article, action).
export function createActions({ rows, drawerRow, filter, refresh }) {
  function confirmAction(action, article) {
    if (!["stop", "restart", "disable", "mask"].includes(action)) return Promise.resolve(true);
    const verb = action[0].toUpperCase() + action.slice(1);
    return askConfirm({
      title: `${verb} ${article.dataset.name}?`,
      text: `This runs systemctl ${action} ${article.dataset.unit} on ${article.dataset.host}.`,
      ok: verb,
    });
  }

  function setBusy(article, action) {
    for (const b of article.querySelectorAll("button[data-action]")) b.disabled = Boolean(action);
    if (action) {
      article.dataset.busy = action;
      rows.paintState(article, "busy", `${ACTION_VERB[action]}…`);
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
    drawerRow.say(article, ok, title);
  }

  function resultDetails(r) {
    const out = [];
    if (r.message) out.push(el("p", { text: r.message }));
    if (r.hint) out.push(el("p", { class: "hint", text: `Fix: ${r.hint}` }));
    const text = [r.stdout, r.stderr].filter(Boolean).join("\n");
    if (text) out.push(el("pre", { class: "output", text }));
    return out;
  }

  // A button disabled while its action runs drops the keyboard focus to <body>, so a keyboard
  // user would start over at the top of the page: put it back on the button (or, if that is
  // pointless now, the next usable button beside it or in the row).
  function restoreFocus(from, article) {
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const usable = (b) => b && b.isConnected && !b.disabled && b.offsetParent !== null;
    const near = from?.parentElement ? [...from.parentElement.querySelectorAll("button")] : [];
    const target = [from, ...near, ...article.querySelectorAll("button")].find(usable);
    if (target) target.focus();
  }

  async function act(article, action) {
    if (article.dataset.busy) return;
    if (!(await confirmAction(action, article))) return;
    const invoker = document.activeElement;  // the dialog gave the focus back to it
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
      rows.acted(article);
      if (status) rows.applyService(status);
      else rows.repaint(article);
      filter.renderCounts();
      filter.applyFilter();
      restoreFocus(invoker, article);
      refresh({ fresh: true }); // the host's other services may have changed too
    }
  }

  return act;
}
