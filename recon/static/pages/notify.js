// The dashboard's notification banner: names the channels whose deliveries keep failing.
// Reads GET /api/notify (channel status, never secrets) now and every 30 s while visible.
import { api, setText } from "../lib/recon.js";

const POLL_MS = 30000;

async function refresh(banner) {
  let body;
  try {
    body = await api("GET", "/api/notify");
  } catch {
    return; // the dashboard's own error box reports a dead API
  }
  const failing = (body.channels || []).filter((c) => c.failing);
  banner.hidden = failing.length === 0;
  // Text only: the error comes from a remote receiver.
  setText(banner.querySelector("[data-notify-list]"), failing
    .map((c) => `${c.name} (${c.type}, ${c.failures_in_row} failed attempts; last: ${c.last_error || "unknown"})`)
    .join("; "));
}

const banner = document.getElementById("notify-banner");
if (banner) {
  refresh(banner);
  setInterval(() => { if (document.visibilityState === "visible") refresh(banner); }, POLL_MS);
}
