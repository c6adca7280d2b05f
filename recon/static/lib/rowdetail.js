// A row's detail: why a unit failed (systemd's reason) with its last journal lines, why a
// unit that is missing or masked cannot be acted on, and the setup actions (enable/disable at
// boot, reset-failed, mask/unmask). It opens by itself when the unit needs attention.
// Also: columns that are empty on every row of a host take no space.
import { api, fmtClock } from "./recon.js";
import { reasonText } from "./status.js";

const TAIL_LINES = 5;
// Tails read at once: a page that shows many failed units at the same time (a large fleet's
// problem hosts all start expanded) reads them in turn, inside the server's bound on one
// user's host reads (web/ratelimit.py, IN_FLIGHT), instead of being refused.
const TAIL_READS = 2;
let reading = 0;
const waiting = [];
const ATTENTION = new Set(["failed", "crashloop", "missing", "masked"]);
export const FACT_COLUMNS = ["since", "pid", "memory", "restarts", "enabled"];

export function setDetailOpen(article, open) {
  const detail = article.querySelector("[data-detail]");
  const toggle = article.querySelector("[data-toggle-detail]");
  detail.hidden = !open;
  if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
}

export function toggleDetail(article) {
  const open = article.querySelector("[data-detail]").hidden;
  setDetailOpen(article, open);
  // Closed by hand while the unit needs attention: stays closed for this episode.
  article._detailChoice = { episode: article._episode, open };
}

// key: the row's state key; s: its status; host: the host's name.
export function paintDetail(article, s, key) {
  const reason = reasonText(s, article.dataset.host);
  const node = article.querySelector("[data-reason]");
  if (node.textContent !== reason) node.textContent = reason;
  node.hidden = !reason;
  node.dataset.kind = key;
  // An "episode": one stretch of needing attention (a new failure is a new episode).
  const episode = ATTENTION.has(key) ? `${key}:${s.state_changed || s.inactive_since || ""}` : "";
  if (episode !== article._episode) {
    article._episode = episode;
    if (episode) setDetailOpen(article, true);
    else if (!article._detailChoice || !article._detailChoice.open) setDetailOpen(article, false);
  }
  const choice = article._detailChoice;
  if (choice && choice.episode === episode && episode) setDetailOpen(article, choice.open);
  const tail = article.querySelector("[data-tail]");
  if (key !== "failed" && key !== "crashloop") {
    tail.hidden = true;
    return;
  }
  if (article._tailFor !== episode && article.querySelector("[data-full-logs]")) {
    article._tailFor = episode;
    loadTail(article, tail, episode);
  }
}

async function loadTail(article, tail, episode) {
  tail.hidden = false;
  tail.textContent = "Reading the last journal lines…";
  while (reading >= TAIL_READS) await new Promise((resolve) => waiting.push(resolve));
  reading += 1;
  try {
    // Meanwhile the row may have been dropped (its host collapsed) or its episode ended.
    if (!article.isConnected || article._tailFor !== episode) return;
    const data = await api("GET", `/api/services/${encodeURIComponent(article.dataset.slug)}/logs?lines=${TAIL_LINES}`);
    if (article._tailFor !== episode) return;
    const lines = (data.lines || []).map((l) => {
      const ts = l.ts ? new Date(typeof l.ts === "number" ? l.ts * 1000 : l.ts) : null;
      const when = ts && !Number.isNaN(ts.getTime()) ? fmtClock(ts, false) : "";
      return [when, l.ident ? `${l.ident}:` : "", String(l.message ?? "")].filter(Boolean).join(" ");
    });
    tail.textContent = lines.length ? lines.join("\n") : "(no journal lines)";
  } catch (err) {
    if (article._tailFor === episode) tail.textContent = `Could not read the journal: ${err.message}`;
  } finally {
    reading -= 1;
    const next = waiting.shift();
    if (next) next();
  }
}

// A fact column that shows "—" on every row of a host is dropped from that host's grid.
export function collapseColumns(list) {
  const rows = [...list.querySelectorAll("article.svc")];
  for (const col of FACT_COLUMNS) {
    const empty = rows.length > 0 && rows.every((a) => {
      const cell = a.querySelector(`.cell-fact[data-col="${col}"]`);
      return !cell || cell.hasAttribute("data-empty");
    });
    list.classList.toggle(`no-${col}`, empty);
  }
}
