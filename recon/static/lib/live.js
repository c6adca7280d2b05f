// Keeps the page current: GET /api/services paints every row from the monitor's snapshot, then
// the live event stream (/api/events) repaints what changes. If the stream drops, EventSource
// resumes it with Last-Event-ID (the server replays what was missed); a slow resync from the
// snapshot runs while the tab is visible anyway. The toolbar says which of the two is in charge.
import { api, el, fmtAgo } from "./recon.js";
import { paintFreshness, paintHost } from "./hosts.js";

// hostSections: host name -> section; rows: rows.js's painters; filter: filter.js's counts
// and filter; refreshMs: the resync's period.
export function createLive({ hostSections, rows, filter, refreshMs }) {
  const updated = document.getElementById("updated");
  const fleetError = document.getElementById("fleet-error");
  let lastOk = 0;
  let live = false;
  let timer = null;
  let inflight = null;
  let again = false; // a refresh was asked for while one was in flight

  function applyHost(h) {
    const section = hostSections.get(h.name);
    if (section) paintHost(section, h);
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
    updated.textContent = inflight ? "Refreshing…" : `Updated ${fmtAgo(age)} · reconnecting`;
    updated.classList.toggle("stale", age * 1000 > refreshMs * 2 + 5000);
    updated.title = `Last status: ${new Date(lastOk).toLocaleString()}; the live stream is down, so the page refreshes every ${refreshMs / 1000} s while visible`;
  }

  function afterRepaint() {
    filter.renderCounts();
    filter.applyFilter();
    paintUpdated();
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
        const data = await api("GET", "/api/services");
        for (const h of data.hosts) applyHost(h);
        for (const s of data.services) rows.applyService(s, askedAt);
        lastOk = Date.now();
        fleetError.hidden = true;
        if (!document.documentElement.dataset.statusLoaded) {
          document.documentElement.dataset.statusLoaded = "1";
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

  function connectEvents() {
    const stream = new EventSource("/api/events");
    stream.addEventListener("open", () => { live = true; paintUpdated(); });
    stream.addEventListener("error", () => {
      live = false;
      paintUpdated();
      // CLOSED: the server refused the stream (e.g. the login expired); retry later.
      if (stream.readyState === EventSource.CLOSED) setTimeout(connectEvents, refreshMs);
    });
    stream.addEventListener("snapshot", (ev) => {
      const data = JSON.parse(ev.data);
      for (const h of data.hosts) applyHost(h);
      for (const s of data.services) rows.applyService(s);
      lastOk = Date.now();
      afterRepaint();
    });
    stream.addEventListener("unit", (ev) => {
      rows.applyService(JSON.parse(ev.data).service);
      lastOk = Date.now();
      afterRepaint();
    });
    // A host going down or coming back changes every row of it: repaint them from the snapshot.
    stream.addEventListener("host", (ev) => {
      applyHost(JSON.parse(ev.data).host);
      refresh();
    });
  }

  document.addEventListener("visibilitychange", wake);
  window.addEventListener("focus", wake);
  setInterval(paintUpdated, 1000);

  // The first status comes from the snapshot, so the page is painted even if the stream
  // cannot open.
  function start() {
    refresh();
    connectEvents();
  }

  return { refresh, start, loaded: () => Boolean(lastOk) };
}
