// The notification channels page: each channel of recon.toml with how its deliveries go
// (GET /api/notify: failing, backlog, last error, last sent; never a URL or secret) and
// "Send a test" (POST /api/notify/NAME/test: admin, audited; answers with the outcome).
// Refreshed every 30 s while the page is visible.
import { api, el, fmtClock } from "../lib/recon.js";
import { fmtWhen, report, say } from "../lib/admin.js";

const POLL_MS = 30000;
const list = document.getElementById("channels");
const lag = document.getElementById("lag");
const updated = document.getElementById("updated");
const outcomes = new Map(); // channel -> the last test's outcome, kept across refreshes

function health(c) {
  if (c.failing) return ["failed", `Failing (${c.failures_in_row} attempts in a row)`];
  if (c.failures_in_row) return ["unreachable", `Retrying (${c.failures_in_row} failed)`];
  if (c.last_ok_at) return ["running", "Delivering"];
  return ["unknown", "Nothing sent yet"];
}

function fact(label, value) {
  return [el("dt", { text: label }), el("dd", { text: value === null || value === undefined || value === "" ? "—" : String(value) })];
}

function scope(c) {
  const parts = [];
  if (c.services.length) parts.push(`services ${c.services.join(", ")}`);
  if (c.hosts.length) parts.push(`hosts ${c.hosts.join(", ")}`);
  return parts.length ? parts.join("; ") : "every service";
}

function card(c) {
  const [state, text] = health(c);
  const result = el("p", { class: "test-result", role: "status", dataset: { result: c.name } });
  const shown = outcomes.get(c.name);
  if (shown) { result.className = `test-result ${shown.ok ? "result-ok" : "result-bad"}`; result.textContent = shown.text; }
  const button = el("button", { type: "button", class: "btn btn-sm", text: "Send a test",
    "aria-label": `Send a test message through ${c.name}` });
  button.addEventListener("click", () => sendTest(c, button, result));
  const headingId = `channel-${c.name}`;
  return el("section", { class: "channel card", "aria-labelledby": headingId, dataset: { channel: c.name, state } },
    el("header", { class: "channel-head" },
      el("h2", { id: headingId, text: c.name }),
      el("span", { class: "muted", text: c.type }),
      el("span", { class: "state" }, el("span", { class: "dot", "aria-hidden": "true" }), el("span", { text }))),
    el("dl", { class: "channel-facts" },
      fact("Last sent", fmtWhen(c.last_ok_at) || "never"),
      fact("Sent", c.sent),
      fact("Backlog", c.pending ? `${c.pending} waiting` : "none"),
      fact("Given up", c.given_up),
      fact("Failed attempts", c.failed_attempts),
      fact("Last error", c.last_error ? `${c.last_error} (${fmtWhen(c.last_error_at)})` : "none"),
      fact("Events", c.events.join(", ")),
      fact("For", scope(c)),
      fact("Signed", c.type === "webhook" ? (c.signed ? "yes (HMAC)" : "no") : null),
      c.type === "email" ? fact("Recipients", `${c.recipients} (${c.security})`) : null),
    el("div", { class: "channel-actions" }, button, result));
}

async function load() {
  try {
    const data = await api("GET", "/api/notify");
    list.replaceChildren(...data.channels.map(card));
    if (!data.channels.length) {
      list.replaceChildren(el("p", { class: "empty", text: "No channels: add a [notify.NAME] table to the config file to be told when a service fails." }));
    }
    lag.textContent = data.lag ? `${data.lag} monitor event${data.lag === 1 ? "" : "s"} wait for the notifier.` : "";
    updated.textContent = `Updated ${fmtClock(new Date())}`;
  } catch (err) {
    report("Could not load the channels", err);
  }
}

async function sendTest(c, button, result) {
  button.disabled = true;
  result.className = "test-result result-pending";
  result.textContent = "Sending…";
  let outcome;
  try {
    const body = await api("POST", `/api/notify/${encodeURIComponent(c.name)}/test`);
    outcome = { ok: true, text: `✓ Sent: ${body.result}` };
    say(`A test message went through ${c.name}.`);
  } catch (err) {
    // 502: the receiver refused or was unreachable; the body says why (a remote's words: text).
    outcome = { ok: false, text: `✗ Not delivered (${err.code}): ${err.message}` };
    if (err.status !== 502) report(`Could not test ${c.name}`, err);
  }
  outcomes.set(c.name, outcome);
  button.disabled = false;
  await load();
}

document.getElementById("refresh").addEventListener("click", load);
setInterval(() => { if (document.visibilityState === "visible") load(); }, POLL_MS);
load();
