// A service's health check on the page: the badge (word, latency, last result) on its row and
// unit page, and the reason line while it fails. Pure functions of the status object but
// paintHealth, which fills a badge element. Colour always comes with the word.
import { fmtSpan } from "./recon.js";
import { whenText } from "./status.js";

const WORDS = { passing: "Healthy", failing: "Unhealthy", unknown: "Health unknown" };

// "Healthy · 12 ms" / "Unhealthy · HTTP 500" / "Health unknown" ("" without a check).
export function healthText(s) {
  if (!s || !s.health) return "";
  const last = (s.health_check && s.health_check.last) || {};
  const parts = [WORDS[s.health] || s.health];
  if (s.health === "failing" && last.message) parts.push(last.message);
  if (typeof last.latency_ms === "number" && s.health !== "unknown") parts.push(`${Math.round(last.latency_ms)} ms`);
  return parts.join(" · ");
}

// The tooltip: what is checked, the rule and the last result with its time.
export function healthTitle(s) {
  const c = s && s.health_check;
  if (!c) return "";
  const last = c.last || {};
  const [at] = whenText(last.at);
  const lines = [`${c.kind} check: ${c.target}, every ${fmtSpan(c.interval || 0)}`,
    `failing after ${c.fail_after} failed in a row, passing again after ${c.recover_after} passed`];
  if (c.note) lines.push(c.note);
  if (last.at) lines.push(`last: ${last.message || (last.ok ? "passed" : "failed")}${typeof last.latency_ms === "number" ? ` in ${last.latency_ms} ms` : ""} at ${at}`);
  return lines.join("\n");
}

// Fill a badge element (hidden without a check): data-health drives the colour.
export function paintHealth(node, s) {
  if (!node) return;
  const text = healthText(s);
  node.hidden = !text;
  if (!text) return;
  node.dataset.health = s.health;
  if (node.textContent !== text) node.textContent = text;
  node.title = healthTitle(s);
}
