// Keeps the page current: GET /api/services fills the page's model (fleet.js) from the
// monitor's snapshot, then the live event stream (/api/events?after=<the snapshot's event_id>)
// repaints what changes, without sending the fleet again. On a large fleet the snapshot is the
// compact view (?view=compact: columns + one array per service, about a fifth of the size);
// on a small one the full view, as it always was. If the stream drops, EventSource resumes it
// with Last-Event-ID (the server replays what was missed); a slow resync from the snapshot
// runs while the tab is visible anyway. The toolbar says which of the two is in charge.
// Events that come in bursts are painted into the rows at once and summed up (counts, host
// summaries, filter) once per REPAINT_MS.
// A stream the server refuses (429 too_many_streams: the user or the server holds as many as
// it allows; 401 after a logout) or ends for good (an "error" event, e.g. access_ended) is
// not hammered: the resync carries the page and the stream is tried again later, each time
// twice as late (up to STREAM_RETRY_MAX_MS).
import { api, el, fmtAgo } from "./recon.js";
import { answered, paintFreshness, paintHost } from "./hosts.js";
import { servicesOf } from "./fleet.js";

const STREAM_RETRY_MAX_MS = 10 * 60 * 1000;
const REPAINT_MS = 40;

// fleet: fleet.js's model; sections: sections.js's host sections; rows: rows.js's painters;
// filter: filter.js's counts and filter; refreshMs: the resync's period.
export function createLive({ fleet, sections, rows, filter, refreshMs }) {
  const hostSections = sections.sections;
  const servicesUrl = fleet.large ? "/api/services?view=compact" : "/api/services";
  const updated = document.getElementById("updated");
  const fleetError = document.getElementById("fleet-error");
  let lastOk = 0;
  let live = false;
  let refused = false; // the stream was refused or ended by the server: retried later
  let streamRetryMs = refreshMs;
  let timer = null;
  let inflight = null;
  let again = false; // a refresh was asked for while one was in flight
  let eventId = null; // the newest event the page has seen (the snapshot's event_id, then the stream's ids)
  let repaintTimer = null;

  function applyHost(h) {
    const section = hostSections.get(h.name);
    if (section) paintHost(section, h);
    fleet.dirty.add(h.name);
  }

  function paintUpdated() {
    for (const section of hostSections.values()) paintFreshness(section);
    if (inflight && !lastOk) { updated.textContent = "Loading…"; return; }
    if (!lastOk) return;
    if (live) {
      updated.textContent = "Live";
      updated.classList.remove("stale");
      updated.title = "Changes on the hosts appear here as they happen";
      return;
    }
    const age = (Date.now() - lastOk) / 1000;
    updated.textContent = inflight ? "Refreshing…"
      : `Updated ${fmtAgo(age)} · ${refused ? "live updates paused" : "reconnecting"}`;
    updated.classList.toggle("stale", age * 1000 > refreshMs * 2 + 5000);
    const why = refused ? "the server did not take the live stream (too many open, or the login ended)"
      : "the live stream is down";
    updated.title = `Last status: ${new Date(lastOk).toLocaleString()}; ${why}, so the page refreshes every ${refreshMs / 1000} s while visible`;
  }

  function afterRepaint() {
    clearTimeout(repaintTimer);
    repaintTimer = null;
    sections.update();
    filter.renderCounts();
    filter.applyFilter();
    paintUpdated();
  }

  function repaintSoon() {
    if (!repaintTimer) repaintTimer = setTimeout(afterRepaint, REPAINT_MS);
  }

  function seen(id) {
    const n = Number(id);
    if (id !== "" && id != null && Number.isInteger(n) && (eventId === null || n > eventId)) eventId = n;
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!document.hidden) timer = setTimeout(refresh, refreshMs);
  }

  // fresh: the caller needs a status asked for after now (an action just answered), so a
  // refresh already in flight is followed by another.
  function refresh({ fresh = false } = {}) {
    if (inflight) {
      again = again || fresh;
      return inflight;
    }
    clearTimeout(timer);
    inflight = (async () => {
      paintUpdated();
      try {
        const askedAt = performance.now();
        const data = await api("GET", servicesUrl);
        for (const h of data.hosts) applyHost(h);
        for (const s of servicesOf(data)) rows.applyService(s, askedAt);
        seen(data.event_id);
        lastOk = Date.now();
        fleetError.hidden = true;
        if (!document.documentElement.dataset.statusLoaded) {
          document.documentElement.dataset.statusLoaded = "1";
          afterRepaint(); // the rows and host summaries, before the marks below
          performance.mark("recon:statuses");
          // The frame after next has been painted: what bench/ui_first_paint.py measures.
          requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("recon:statuses-painted")));
        }
      } catch (err) {
        fleetError.replaceChildren(el("strong", { text: "Could not refresh the status: " }), err.message,
          err.hint ? el("span", { class: "hint", text: ` ${err.hint}` }) : null);
        fleetError.hidden = false;
      } finally {
        inflight = null;
        afterRepaint();
        schedule();
        if (again) {
          again = false;
          refresh();
        }
      }
    })();
    return inflight;
  }

  function wake() {
    if (document.hidden) { clearTimeout(timer); timer = null; return; }
    if (Date.now() - lastOk >= refreshMs) refresh();
    else if (!timer && !inflight) schedule();
  }

  // The stream again after the current back-off (with some jitter, so that many pages
  // refused at once do not come back at once), which then doubles.
  function reconnectLater() {
    setTimeout(connectEvents, streamRetryMs * (1 + Math.random() / 5));
    streamRetryMs = Math.min(streamRetryMs * 2, STREAM_RETRY_MAX_MS);
  }

  // From the newest event the page has seen: the stream replays what came after it instead of
  // starting with a snapshot of the whole fleet. (The server does not send event_id yet?
  // Then the stream starts with a snapshot, as it always did.)
  function connectEvents() {
    const stream = new EventSource(eventId === null ? "/api/events" : `/api/events?after=${eventId}`);
    stream.addEventListener("open", () => {
      live = true;
      refused = false;
      streamRetryMs = refreshMs;
      paintUpdated();
    });
    stream.addEventListener("error", (ev) => {
      live = false;
      // The server's own "error" event (access_ended): a reconnect now would be refused.
      if (ev.data) stream.close();
      // CLOSED: refused (429, 401: the browser does not retry those) or closed above.
      if (stream.readyState === EventSource.CLOSED) {
        refused = true;
        reconnectLater();
      }
      paintUpdated();
    });
    stream.addEventListener("snapshot", (ev) => {
      const data = JSON.parse(ev.data);
      for (const h of data.hosts) applyHost(h);
      for (const s of servicesOf(data)) rows.applyService(s);
      seen(ev.lastEventId);
      lastOk = Date.now();
      afterRepaint();
    });
    stream.addEventListener("unit", (ev) => {
      rows.applyService(JSON.parse(ev.data).service);
      seen(ev.lastEventId);
      lastOk = Date.now();
      repaintSoon();
    });
    // Each host's seconds since it last answered, every second: "watched · answered N s ago".
    stream.addEventListener("answered", (ev) => {
      const data = JSON.parse(ev.data);
      for (const [name, age] of Object.entries(data.ages)) {
        const section = hostSections.get(name);
        if (section) answered(section, age, data.bound);
      }
      for (const section of hostSections.values()) paintFreshness(section);
    });
    // recon.toml changed (a service or host added or removed): the page is rebuilt from the new
    // config -- at once when nothing is open in it, else on the user's word (an open log
    // stream, dialog or rolling run is not cut short).
    stream.addEventListener("config", (ev) => configChanged(JSON.parse(ev.data)));
    // A host going down or coming back changes every row of it: repaint them from the snapshot.
    stream.addEventListener("host", (ev) => {
      applyHost(JSON.parse(ev.data).host);
      seen(ev.lastEventId);
      repaintSoon();
      refresh();
    });
  }

  function configChanged(change) {
    const what = [["services_added", "service added"], ["services_removed", "service removed"],
      ["hosts_added", "host added"], ["hosts_removed", "host removed"]]
      .filter(([key]) => change[key].length)
      .map(([key, word]) => `${change[key].length} ${word}${change[key].length === 1 ? "" : "s"}`);
    if (!what.length) return; // settings or details only: the rows already follow
    const busy = document.querySelector("dialog[open]") || !document.getElementById("logs")?.hidden
      || document.querySelector('#rolling-state[data-run-state="running"]');
    if (!busy) { window.location.reload(); return; }
    let note = document.getElementById("config-changed");
    if (!note) {
      note = el("div", { id: "config-changed", class: "alert config-changed", role: "status" });
      document.getElementById("dashboard")?.prepend(note);
    }
    note.replaceChildren(el("span", { text: `recon.toml changed: ${what.join(", ")}. ` }),
      el("button", { type: "button", class: "btn btn-sm", text: "Reload the page", onclick: () => window.location.reload() }));
  }

  document.addEventListener("visibilitychange", wake);
  window.addEventListener("focus", wake);
  setInterval(paintUpdated, 1000);

  // The first status comes from the snapshot, so the page is painted even if the stream
  // cannot open.
  // The stream opens once the snapshot answered (or failed), from its event_id.
  function start() {
    afterRepaint();
    refresh().then(connectEvents);
  }

  return { refresh, start, loaded: () => Boolean(lastOk) };
}
