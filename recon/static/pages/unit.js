// One service's workbench: its state and who changed it last, the row's actions (the same
// rules: status.js's pointless(), the same API), its logs (the dashboard's drawer: read and
// follow), the runbook's status text, the timeline from its history, its timer (next run as a
// live countdown, the schedule in words, the last run's result, recent runs, the .timer
// file), dependencies, unit file and every property. Every string from the host is text.
import { api, askConfirm, copyText, el, fmtClock, fmtSpan, parseSystemdTime } from "../lib/recon.js";
import { changedText, classify, pointless, reasonText, whenText } from "../lib/status.js";
import { LogsDrawer } from "../lib/logs.js";
import { paintHealth } from "../lib/health.js";
import "../lib/unitstrip.js";

const root = document.getElementById("unit");
const slug = encodeURIComponent(root.dataset.slug);
const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;
let status = null;
let timer = null; // the unit read's timer, for the countdown

function showError(err) {
  const box = $("u-error");
  box.replaceChildren(el("p", { text: `Could not read the unit: ${err.message}` }),
    err.hint ? el("p", { class: "hint", text: `Fix: ${err.hint}` }) : null);
  box.hidden = false;
}

function clock(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return "";
  return fmtClock(d, new Date().toDateString() !== d.toDateString()).slice(0, 16);
}

// "failed 03:12 (exit 1)" · "restarted by alice 03:20" · "crashed (exit 1), restarting 03:21"
export function timelineText(e) {
  const past = { start: "started", stop: "stopped", restart: "restarted", reload: "reloaded",
    enable: "enabled", disable: "disabled", "reset-failed": "reset", mask: "masked", unmask: "unmasked" };
  const exit = e.exit_signal ? ` (${e.exit_signal})` : e.exit_code ? ` (exit ${e.exit_code})`
    : e.result && e.result !== "success" ? ` (${e.result})` : "";
  let to = e.to;
  if (e.sub_state === "auto-restart") to = `crashed${exit}, systemd restarts it`;
  else if (e.to === "failed") to = `failed${exit}`;
  if (e.crash_looping) to += " · crash-looping";
  if (e.health && e.health !== "unknown") to += ` · ${e.health === "failing" ? "health check failing" : "healthy"}`;
  const what = e.cause === "action" && e.action
    ? `${past[e.action] || e.action} by ${e.actor || "?"} → ${to}`
    : `${e.from ? "" : "first seen "}${to}`;
  return `${what} ${clock(e.at)}`;
}

async function loadTimeline() {
  const list = $("u-timeline");
  try {
    const data = await api("GET", `/api/services/${slug}/history?limit=30`);
    const events = data.events || [];
    list.replaceChildren(...(events.length ? events.map((e) => el("li", {
      class: `tl tl-${e.to === "failed" || e.sub_state === "auto-restart" || e.crash_looping || e.health === "failing" ? "bad" : e.cause === "action" ? "act" : "obs"}`,
      title: e.at, text: timelineText(e),
    })) : [el("li", { class: "muted", text: "No recorded changes yet." })]));
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted", text: `History unavailable: ${err.message}` }));
  }
}

function facts(node, pairs) {
  node.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v || "—" })]));
}

function paintProps(props) {
  const filter = $("u-props-filter").value.trim().toLowerCase();
  $("u-props").replaceChildren(...Object.entries(props)
    .filter(([k, v]) => !filter || k.toLowerCase().includes(filter) || String(v).toLowerCase().includes(filter))
    .map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: v }))));
}

// -- the state and the actions ---------------------------------------------------------------
function paintStatus(s) {
  status = s;
  const [key, label] = classify(s);
  $("u-state").dataset.state = key;
  $("u-state").querySelector("[data-state-text]").textContent = label;
  paintHealth($("u-health"), s);
  const changed = changedText(s);
  $("u-changed").textContent = changed;
  $("u-changed").hidden = !changed;
  const reason = reasonText(s, root.dataset.host);
  $("u-reason").textContent = reason;
  $("u-reason").hidden = !reason;
  $("u-reason").dataset.kind = key;
  if (!root.dataset.busy) {
    for (const b of root.querySelectorAll("button[data-action]")) {
      const why = pointless(b.dataset.action, s, root.dataset.host);
      b.disabled = Boolean(why);
      b.title = why;
    }
  }
  if (timer) paintTimer();
}

async function loadStatus() {
  try {
    paintStatus(await api("GET", `/api/services/${slug}/status`));
    $("u-error").hidden = true;
  } catch (err) { showError(err); }
}

function feedback(ok, title, r) {
  const box = $("u-feedback");
  const text = [r.stdout, r.stderr].filter(Boolean).join("\n");
  box.className = `feedback ${ok ? "fb-ok" : "fb-error"}`;
  box.replaceChildren(el("div", { class: "fb-title", text: title }),
    r.message ? el("p", { text: r.message }) : null,
    r.hint ? el("p", { class: "hint", text: `Fix: ${r.hint}` }) : null,
    text ? el("pre", { class: "output", text }) : null);
  box.hidden = false;
}

async function act(button) {
  const action = button.dataset.action;
  const unit = root.dataset.unit;
  if (["stop", "restart", "disable", "mask"].includes(action)) {
    const verb = action[0].toUpperCase() + action.slice(1);
    const ok = await askConfirm({ title: `${verb} ${root.dataset.name}?`,
      text: `This runs systemctl ${action} ${unit} on ${root.dataset.host}.`, ok: verb });
    if (!ok) return;
  }
  root.dataset.busy = action;
  for (const b of root.querySelectorAll("button[data-action]")) b.disabled = true;
  try {
    const r = await api("POST", `/api/services/${slug}/${action}`);
    const secs = ((r.duration_ms || 0) / 1000).toFixed(2);
    feedback(r.success, r.success ? `${action} ${unit}: done in ${secs} s (exit ${r.exit_code})`
      : `${action} ${unit} failed (exit ${r.exit_code})`, r);
    if (r.status) paintStatus(r.status);
  } catch (err) {
    feedback(false, `${action} ${unit} failed: ${err.code}`, { ...err.body, message: err.message, hint: err.hint });
  } finally {
    delete root.dataset.busy;
    await loadStatus();
    if (button.isConnected && !button.disabled) button.focus();
    loadTimeline();
    load();
  }
}

// -- the timer -------------------------------------------------------------------------------
// "18:21:00 (in 59 s)", counting down every second; "due now" once it is past.
function nextText(iso, raw) {
  const date = parseSystemdTime(iso);
  // systemd arms the next elapse once the run it started is over
  if (!date && rearming()) return "after the current run";
  if (!date) return raw || "—";
  const left = (date.getTime() - Date.now()) / 1000;
  const today = new Date().toDateString() === date.toDateString();
  const at = fmtClock(date, !today);
  return left > 0 ? `${at} (in ${fmtSpan(left)})` : `${at} (due now)`;
}

// An active timer without a next elapse: its unit is running (or was just started).
function rearming() {
  return Boolean(timer && timer.state === "active" && !parseSystemdTime(timer.next));
}

function lastRunText() {
  const t = timer;
  if (!t.last) return t.last_raw || "never";
  const [when] = whenText(t.last);
  const s = status || {};
  if (s.state === "activating" || s.state === "active" && s.type === "oneshot") return `${when} · running now`;
  if (s.result && s.result !== "success") {
    const how = s.exit_signal ? `killed by ${s.exit_signal}` : s.exit_code != null ? `exit code ${s.exit_code}` : s.result;
    return `${when} · failed (${how})`;
  }
  return `${when} · succeeded${s.exit_code != null ? ` (exit ${s.exit_code})` : ""}`;
}

function paintTimer() {
  const node = $("u-timer");
  if (!node || !timer) return;
  const t = timer;
  facts(node, [["State", `${t.state || "?"} (${t.enabled || "?"})`],
    ["Next run", nextText(t.next, t.next_raw)],
    ["Last run", lastRunText()],
    ["Schedule", (t.schedule && t.schedule.length ? t.schedule.join("; ") : t.calendar) || t.monotonic]]);
  node.querySelector("dd:nth-of-type(2)").dataset.countdown = "";
}

// systemd's own lines about the unit ("Finished ...", "Failed to start ...") are its runs.
async function loadRuns() {
  const list = $("u-runs");
  if (!list) return;
  try {
    const data = await api("GET", `/api/services/${slug}/logs?lines=500`);
    const runs = (data.lines || []).filter((l) => l.ident === "systemd"
      && /^(Finished|Failed|Started|Starting) /.test(l.message || "") && !/^Starting /.test(l.message))
      .slice(-10).reverse();
    list.replaceChildren(...(runs.length ? runs.map((l) => el("li", {
      class: `tl tl-${/^Failed/.test(l.message) ? "bad" : "obs"}`,
      text: `${clock(l.ts)} ${l.message}`,
    })) : [el("li", { class: "muted", text: "No run in the journal's last 500 lines." })]));
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted", text: `Runs unavailable: ${err.message}` }));
  }
}

// -- the unit read -----------------------------------------------------------------------------
async function load() {
  try {
    const d = await api("GET", `/api/services/${slug}/unit`);
    $("u-status-cmd").textContent = d.status_command;
    $("u-status").textContent = d.status_text || "(no output)";
    $("u-file").textContent = d.file ?? `No unit file: ${d.file_error}`;
    $("u-redacted").hidden = !d.redacted;
    const deps = Object.entries(d.dependencies || {}).map(([k, v]) => [k, v.join(" ")]);
    facts($("u-deps"), deps.length ? deps : [["Dependencies", "none"]]);
    if (d.timer && $("u-timer")) {
      timer = d.timer;
      paintTimer();
      $("u-timer-file").textContent = d.timer_file ?? "(the .timer file could not be read)";
    }
    root._props = d.properties || {};
    paintProps(root._props);
  } catch (err) {
    showError(err);
    for (const id of ["u-status", "u-file"]) $(id).textContent = "—";
  }
}

root.addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-action]");
  if (button && !button.disabled) act(button);
});
const logsButton = $("u-logs");
if (logsButton) {
  const drawer = new LogsDrawer($("logs"));
  $("logs-actions").hidden = true; // the page's own buttons are beside the logs
  logsButton.addEventListener("click", () => drawer.open({
    slug: root.dataset.slug, name: root.dataset.name, unit: root.dataset.unit, host: root.dataset.host }, logsButton));
}
$("u-props-filter").addEventListener("input", () => paintProps(root._props || {}));
$("u-copy").addEventListener("click", async () => {
  const ok = await copyText($("u-status-cmd").textContent);
  $("u-copy").textContent = ok ? "Copied" : "Copy failed: select the command";
  setTimeout(() => { $("u-copy").textContent = "Copy command"; }, 2000);
});
loadStatus();
load();
loadTimeline();
// Read when asked for: one journal read (through sudo) per look, not per page view.
const runsBox = $("u-runs-box");
if (runsBox) runsBox.addEventListener("toggle", () => { if (runsBox.open) loadRuns(); });
// Past the next run (or while a run re-arms it), the timer is read again (2 s after it was
// due, then every 5 s while it still is): the card moves on to the run after, instead of
// saying "due now" until a reload.
let timerReadAt = 0;
setInterval(() => {
  if (!timer) return;
  paintTimer();
  const due = parseSystemdTime(timer.next);
  const now = Date.now();
  const stale = due ? now - due.getTime() > 2000 : rearming();
  if (stale && now - timerReadAt > 5000 && !document.hidden) {
    timerReadAt = now;
    load();
  }
}, 1000);
setInterval(() => { if (!document.hidden && !root.dataset.busy) loadStatus(); }, POLL_MS);
