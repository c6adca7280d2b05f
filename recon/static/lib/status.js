// What a unit's status means for the page: its state key and word, why it failed (systemd's
// own reason), and why an action would be pointless now. Pure functions of the status object.
import { fmtClock, fmtSpan, parseSystemdTime } from "./recon.js";

// [key, word]: every colour on the page comes with the word beside it.
export function classify(s) {
  if (!s || !s.state) return ["loading", "Loading"];
  if (s.state === "unreachable") return ["unreachable", "Unreachable"];
  if (s.load_state === "not-found") return ["missing", "Not found"];
  if (s.masked || s.load_state === "masked") {
    // Masked but still running: a problem of its own (it cannot be started again once stopped).
    return s.state === "active" ? ["masked", "Masked, running"] : ["masked", "Masked"];
  }
  if (s.crash_looping) return ["crashloop", "Crash-looping"];
  // Running but failing its health check (`[services.health]`): a problem of its own.
  if (s.health === "failing" && (s.state === "active" || s.state === "reloading")) return ["unhealthy", "Unhealthy"];
  // Inactive by design: a oneshot or timer-run unit between runs, or one the admin expects
  // stopped (`expect = "stopped"`): not a problem, so not "Stopped".
  if (s.state === "inactive" && s.stopped_ok) return ["idle", s.stopped_ok === "expected" ? "Off (expected)" : "Idle"];
  switch (s.state) {
    case "active": return s.sub_state === "reloading" ? ["busy", "Reloading"] : ["running", "Running"];
    case "reloading": return ["busy", "Reloading"];
    case "activating": return ["busy", "Activating"];
    case "deactivating": return ["busy", "Stopping"];
    case "inactive": return ["stopped", "Stopped"];
    case "failed": return ["failed", "Failed"];
    default: return ["unknown", "Unknown"];
  }
}

// "HH:MM (5 min ago)", with the date when it is not today; [text, raw] for the title.
export function whenText(iso) {
  if (!iso) return ["—", ""];
  const date = parseSystemdTime(iso);
  if (!date) return [iso, iso];
  const age = Math.max(0, (Date.now() - date.getTime()) / 1000);
  const today = new Date().toDateString() === date.toDateString();
  return [`${fmtClock(date, !today).slice(0, today ? 5 : 16)} (${fmtSpan(age)} ago)`, iso];
}

// systemd's Result values in words (systemd.exec(5), "$SERVICE_RESULT").
const RESULTS = {
  "exit-code": "the main process exited with an error code",
  signal: "the main process was killed by a signal",
  "core-dump": "the main process dumped core",
  timeout: "a start, stop or reload timed out",
  watchdog: "the watchdog timed out",
  "start-limit-hit": "it was restarted too often (start limit hit)",
  resources: "systemd could not set up its resources",
  "oom-kill": "the kernel's OOM killer ended it",
  protocol: "the service broke the start-up protocol",
  "exec-condition": "its ExecCondition failed",
};

// A crash loop's story: "4 automatic restarts in 5 min · last: exit code 1 at 18:21 (2 min ago)".
export function crashText(s) {
  const c = s && s.crash;
  if (!c) return "";
  const parts = [`${c.count} automatic restart${c.count === 1 ? "" : "s"} in ${fmtSpan(c.window_seconds || 0)}`];
  const last = c.last_exit;
  if (last) {
    const what = last.signal ? `killed by ${last.signal}` : last.code ? `exit code ${last.code}` : `result ${last.result || "?"}`;
    const [at] = whenText(last.at);
    parts.push(`last: ${what}${at === "—" ? "" : ` at ${at}`}`);
  }
  return parts.join(" · ");
}

// Why the unit is in a state that needs attention, in systemd's terms; "" when it is not.
export function reasonText(s, host) {
  if (!s) return "";
  if (s.crash_looping) {
    return `Crash-looping: systemd keeps restarting it (${crashText(s)}). It shows as running again once it stays up for ${fmtSpan((s.crash && s.crash.window_seconds) || 0)}.`;
  }
  if (s.health === "failing" && s.state === "active") {
    const c = s.health_check || {};
    const last = c.last || {};
    return `Running, but its ${c.kind} check of ${c.target} fails (${c.fail_after} failed in a row; last: ${last.message || "no answer"}).`;
  }
  if (s.load_state === "not-found") {
    return `systemd on ${host} has no unit ${s.unit}: nothing can be done to it. Install the unit on the host or fix its \`unit\` in recon.toml.`;
  }
  if (s.masked || s.load_state === "masked") {
    return `${s.unit} is masked (linked to /dev/null): nothing can start it until it is unmasked.`;
  }
  if (s.state !== "failed") return "";
  const parts = [];
  const [at] = whenText(s.state_changed || s.inactive_since);
  parts.push(`Failed ${at === "—" ? "" : `at ${at}`}`.trim());
  if (s.exited_how === "exited" && s.exit_code != null) parts.push(`exit code ${s.exit_code}`);
  else if (s.exited_how === "killed" && s.exit_signal) parts.push(`killed by ${s.exit_signal}`);
  else if (s.exited_how === "dumped" && s.exit_signal) parts.push(`dumped core (${s.exit_signal})`);
  if (s.result && s.result !== "success") parts.push(`result: ${s.result} — ${RESULTS[s.result] || "see the logs"}`);
  if (s.restarts != null) parts.push(`${s.restarts} automatic restart${s.restarts === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

// Why an action can do nothing useful right now ("" = it can): the button says so.
export function pointless(action, s, host) {
  if (!s || !s.state) return "Waiting for the first status";
  if (s.state === "unreachable") return `The host ${host} is unreachable`;
  if (s.load_state === "not-found") return `The unit does not exist on ${host}`;
  const masked = s.masked || s.load_state === "masked";
  if (action === "unmask") return masked ? "" : "Not masked";
  // systemctl stop works on a masked unit that still runs (masking only prevents starts).
  if (masked && action === "stop" && s.state !== "inactive" && s.state !== "failed") return "";
  if (masked) return action === "stop" ? "Already stopped" : "The unit is masked: unmask it first";
  if (action === "mask") return "";
  if (action === "start" && s.state === "active") return "Already running";
  if (action === "stop" && s.state === "inactive") return "Already stopped";
  if (action === "reload" && s.state !== "active") return "Only a running service can reload";
  if (action === "reset-failed" && s.state !== "failed") return "Only a failed unit can be reset";
  if (action === "enable" && s.enabled === "enabled") return "Already enabled at boot";
  if (action === "disable" && s.enabled === "disabled") return "Already disabled at boot";
  if (["enable", "disable"].includes(action) && ["static", "indirect", "generated", "transient", "alias"].includes(s.enabled)) {
    return `The unit is ${s.enabled}: it has no [Install] section to ${action}`;
  }
  return "";
}

// The line under the service's name: its description and what systemd adds to it.
export function describeLine(s, key) {
  if (key === "crashloop") return `Crash-looping: ${crashText(s)}`;
  if (key === "unhealthy") return `Health check failing: ${((s.health_check || {}).last || {}).message || "no answer"}`;
  if (key === "missing" || key === "masked") return "";  // the detail says why, once
  if (key === "unreachable" || s.error) return ""; // the host's box says why, once
  const parts = [];
  if (s.description) parts.push(s.description);
  if (s.sub_state && !["running", "dead", "failed"].includes(s.sub_state)) parts.push(`(${s.sub_state})`);
  return parts.join(" ");
}

const PAST = {
  start: "Started", stop: "Stopped", restart: "Restarted", reload: "Reloaded", enable: "Enabled",
  disable: "Disabled", "reset-failed": "Reset", mask: "Masked", unmask: "Unmasked",
};

// Who left the unit in its state: "Stopped by alice · 18:18" ("" when nobody RECON knows of).
export function changedText(s) {
  const c = s && s.changed_by;
  if (!c || !c.actor) return "";
  const date = parseSystemdTime(c.at);
  const today = date && new Date().toDateString() === date.toDateString();
  const at = date ? fmtClock(date, !today).slice(0, today ? 5 : 16) : "";
  return `${PAST[c.action] || c.action} by ${c.actor}${at ? ` · ${at}` : ""}`;
}
