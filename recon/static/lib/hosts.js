// A host's header on the dashboard: reachability, whether a monitor watches it, freshness, its
// error and fix, and the Terminal button (off, with the reason, when the server or the host state says so).
import { api, el, fmtAgo, fmtClock, setText } from "./recon.js";

export function paintHost(section, h) {
  section._host = h;
  if (h.answered_age != null) answered(section, h.answered_age, h.liveness_seconds);
  paintFreshness(section);
  // No live monitor for this host (the server says why): its states may be old.
  const watch = section.querySelector("[data-watch]");
  watch.hidden = h.watched !== false;
  watch.title = h.watched === false ? h.watch_reason || "" : "";
  const reach = section.querySelector("[data-reach]");
  const box = section.querySelector("[data-host-error]");
  if (h.state === "pending") { // the monitor has not reached it yet
    reach.className = "reach reach-checking";
    setText(reach, "Checking…");
    box.hidden = true;
    return;
  }
  const ok = h.reachable && !h.error;
  const term = section.querySelector("button[data-terminal]");
  if (term) { // the server's reason (no terminal_user, no ttyd) wins; else the host's state
    const why = term.dataset.off || (h.reachable ? "" : `${h.name} is unreachable`);
    term.disabled = Boolean(why);
    term.title = why;
    const off = section.querySelector("[data-term-off]");
    if (off.textContent !== why) off.textContent = why;
  }
  reach.className = `reach ${h.reachable ? (h.error ? "reach-degraded" : "reach-ok") : "reach-down"}`;
  // "Degraded": it answers and its states are current, but sshd takes no new connections
  // (terminals and log streams fail); "Status failed": it answers but the read failed.
  setText(reach, h.reachable ? (h.error ? (h.error === "sshd_refusing" ? "Degraded" : "Status failed") : "Reachable") : "Unreachable");
  section.dataset.reachable = h.reachable ? "yes" : "no";
  box.hidden = ok;
  if (!ok) {
    setText(box.querySelector("[data-err-code]"), h.error);
    setText(box.querySelector("[data-err-message]"), h.message);
    const hint = box.querySelector("[data-err-hint]");
    setText(hint, h.hint ? `Fix: ${h.hint}` : "");
    hint.hidden = !h.hint;
  }
}

// When the host last answered anything (a keepalive reply counts), as the server saw it:
// its age then, and when the page learnt it -- the page's clock never enters.
export function answered(section, age, bound) {
  section._answered = { age, at: performance.now(), bound: bound || section._answered?.bound || 5 };
}

// How fresh a host's state is: "watched · answered N s ago" (the monitor watches it and it last
// answered N s ago; more than the liveness bound is shown as a warning); for a host that is
// down, since when.
export function paintFreshness(section) {
  const h = section._host;
  const node = section.querySelector("[data-fresh]");
  if (!h || !node) return;
  const a = section._answered;
  const age = a ? a.age + (performance.now() - a.at) / 1000 : null;
  let text = "";
  let late = false;
  if (h.state === "down") {
    const since = h.since ? new Date(h.since) : null;
    text = since ? `unreachable since ${fmtClock(since, new Date().toDateString() !== since.toDateString()).slice(0, 16)}` : "unreachable";
  } else if (age != null) {
    late = age > a.bound;
    // seconds, not fmtAgo's "just now" for < 5 s: the number is the point
    const ago = age < 1 ? "just now" : age < 60 ? `${Math.floor(age)} s ago` : fmtAgo(age);
    text = `${h.watched === false ? "not watched" : "watched"} · answered ${ago}`;
  }
  setText(node, text);
  node.classList.toggle("fresh-late", late);
  const title = age == null ? "" : late
    ? `No answer from ${h.name} for ${Math.floor(age)} s: more than the ${a.bound} s within which RECON notices a silent host (is this page still live?)`
    : `${h.name} answered ${Math.floor(age)} s ago (a keepalive reply counts); RECON marks it unreachable when it stays silent for ${a.bound} s`;
  if (node.title !== title) node.title = title;
}

function hostFeedback(section, message, hint) {
  const box = section.querySelector("[data-host-feedback]");
  box.className = "host-feedback alert alert-error";
  box.replaceChildren(el("p", { text: message }), hint ? el("p", { class: "hint", text: `Fix: ${hint}` }) : null,
    el("button", { type: "button", class: "btn btn-sm btn-quiet", onclick: () => { box.hidden = true; } }, "Dismiss"));
  box.hidden = false;
}

export async function openTerminal(section, button) {
  const host = section.dataset.host;
  // Opened inside the click so no popup blocker interferes; pointed at the session below.
  const win = window.open("", "_blank");
  button.disabled = true;
  try {
    const session = await api("POST", "/api/terminals", { host, mode: "shell" });
    const url = session.url || (session.session && session.session.url) || `/terminals/${session.id}/`;
    if (win) { win.opener = null; win.location.href = url; } else window.location.assign(url);
  } catch (err) {
    if (win) win.close();
    hostFeedback(section, `Could not open a terminal on ${host}: ${err.message}`, err.hint);
  } finally {
    button.disabled = Boolean(button.title); // still off if the host went down meanwhile
  }
}
