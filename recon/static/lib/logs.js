// The logs drawer: journal lines of one service with filters, live follow over Server-Sent
// Events (pause/resume, autoscroll that stops while the user reads further up), the
// equivalent journalctl command and a plain-text download. Lines are inserted as text only.
import { api, copyText, el, fmtClock } from "./recon.js";

const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
const STICK_PX = 24; // this close to the bottom counts as "at the bottom"

function priorityNumber(p) {
  if (p === undefined || p === null || p === "") return null;
  const n = Number(p);
  if (Number.isInteger(n)) return n;
  const i = PRIORITIES.indexOf(String(p).toLowerCase());
  return i < 0 ? null : i;
}

function parseTs(ts) {
  if (ts === undefined || ts === null || ts === "") return null;
  if (typeof ts === "number") return new Date(ts > 1e14 ? ts / 1000 : ts > 1e11 ? ts : ts * 1000);
  const t = Date.parse(ts);
  return Number.isNaN(t) ? null : new Date(t);
}

export class LogsDrawer {
  constructor(node) {
    this.node = node;
    this.form = node.querySelector("#logs-form");
    this.view = node.querySelector("#logs-view");
    this.follow = node.querySelector("#logs-follow");
    this.pauseButton = node.querySelector("#logs-pause");
    this.live = node.querySelector("#logs-live");
    this.jump = node.querySelector("#logs-jump");
    this.status = node.querySelector("#logs-status");
    this.commandNode = node.querySelector("#logs-command");
    this.download = node.querySelector("#logs-download");
    this.service = null;
    this.source = null;
    this.paused = false;
    this.buffer = [];
    this.seen = new Set();
    this.lastCursor = null;
    this.stick = true;
    this.loadSeq = 0;
    this.trigger = null;

    node.querySelector("#logs-close").addEventListener("click", () => this.close());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.node.hidden && !document.querySelector("dialog[open]")) {
        ev.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.load(); });
    this.form.addEventListener("change", (ev) => { if (ev.target.name !== "grep") this.load(); });
    let debounce = null;
    this.form.elements.grep.addEventListener("input", () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.load(), 400);
    });
    this.follow.addEventListener("change", () => {
      if (this.follow.checked) this.startFollow(); else this.stopFollow();
      this.paintCommand();
    });
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    this.view.addEventListener("scroll", () => {
      const v = this.view;
      this.stick = v.scrollTop + v.clientHeight >= v.scrollHeight - STICK_PX;
      if (this.stick) this.jump.hidden = true;
    });
    this.jump.addEventListener("click", () => {
      this.stick = true;
      this.scrollToEnd();
      this.jump.hidden = true;
      this.view.focus();
    });
    node.querySelector("#logs-copy").addEventListener("click", () => this.copyCommand());
    window.addEventListener("pagehide", () => this.stopFollow());
  }

  params(extra) {
    const f = this.form.elements;
    const p = new URLSearchParams({ lines: f.lines.value });
    if (f.priority.value) p.set("priority", f.priority.value);
    if (f.since.value) p.set("since", f.since.value);
    if (f.grep.value.trim()) p.set("grep", f.grep.value.trim());
    for (const [k, v] of Object.entries(extra || {})) if (v) p.set(k, v);
    return p;
  }

  base() { return `/api/services/${encodeURIComponent(this.service.slug)}`; }

  open(service, trigger) {
    const same = this.service && this.service.slug === service.slug && !this.node.hidden;
    this.trigger = trigger || null;
    if (same) { this.view.focus(); return; }
    this.stopFollow();
    this.follow.checked = false;
    this.service = service;
    this.node.querySelector("#logs-service").textContent = service.name;
    this.node.querySelector("#logs-unit").textContent = service.unit;
    this.node.hidden = false;
    document.body.classList.add("drawer-open");
    this.view.replaceChildren();
    this.load();
    this.view.focus();
  }

  close() {
    this.stopFollow();
    this.follow.checked = false;
    this.node.hidden = true;
    document.body.classList.remove("drawer-open");
    this.service = null;
    if (this.trigger && this.trigger.isConnected) this.trigger.focus();
  }

  async load() {
    if (!this.service) return;
    const seq = ++this.loadSeq;
    const params = this.params();
    this.download.href = `${this.base()}/logs.txt?${params}`;
    this.status.textContent = "Loading…";
    this.node.setAttribute("aria-busy", "true");
    try {
      const data = await api("GET", `${this.base()}/logs?${params}`);
      if (seq !== this.loadSeq) return;
      this.seen.clear();
      this.buffer = [];
      this.view.replaceChildren();
      this.lastCursor = null;
      this.append(data.lines || [], true);
      this.journalCommand = data.command || "";
      this.paintCommand();
      const n = (data.lines || []).length;
      this.status.textContent = `${n} line${n === 1 ? "" : "s"}${data.truncated ? " (older lines cut off; raise “Lines” for more)" : ""}`;
      if (!n) this.view.append(el("p", { class: "logs-empty", text: "No journal lines match." }));
      this.stick = true;
      this.scrollToEnd();
      if (this.follow.checked) this.startFollow();
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.status.textContent = "";
      this.view.replaceChildren(el("div", { class: "alert alert-error" },
        el("p", { text: `Could not read the logs: ${err.message}` }),
        err.hint ? el("p", { class: "hint", text: `Fix: ${err.hint}` }) : null));
    } finally {
      if (seq === this.loadSeq) this.node.removeAttribute("aria-busy");
    }
  }

  matches(line) {
    const f = this.form.elements;
    const want = priorityNumber(f.priority.value);
    const have = priorityNumber(line.priority);
    if (want !== null && have !== null && have > want) return false;
    const pattern = f.grep.value.trim();
    if (!pattern) return true;
    // journalctl --grep is case-insensitive when the pattern is all lower case: same here.
    const message = String(line.message ?? "");
    return pattern === pattern.toLowerCase()
      ? message.toLowerCase().includes(pattern) : message.includes(pattern);
  }

  renderLine(line) {
    const date = parseTs(line.ts);
    const prio = priorityNumber(line.priority);
    const message = el("span", { class: "msg", text: String(line.message ?? "") });
    const level = prio !== null && prio <= 3 ? " p-err" : prio === 4 ? " p-warn" : "";
    if (!date && prio === null && !line.ident) return el("div", { class: `line raw${level}` }, message);
    const who = line.ident ? `${line.ident}${line.pid ? `[${line.pid}]` : ""}` : (line.pid ? `[${line.pid}]` : "");
    return el("div", { class: `line${level}` },
      el("span", { class: "ts", title: line.ts ? String(line.ts) : null, text: date ? fmtClock(date, true).slice(5) : String(line.ts ?? "") }),
      el("span", { class: "prio", text: prio !== null ? PRIORITIES[prio] || String(prio) : "" }),
      el("span", { class: "ident", text: who }),
      message);
  }

  append(lines, initial) {
    const fresh = [];
    for (const raw of lines) {
      const line = typeof raw === "string" ? { message: raw } : raw;
      if (line.cursor) {
        if (this.seen.has(line.cursor)) continue;
        this.seen.add(line.cursor);
        this.lastCursor = line.cursor;
      }
      fresh.push(line);
    }
    if (!fresh.length) return;
    const empty = this.view.querySelector(".logs-empty");
    if (empty) empty.remove();
    const frag = document.createDocumentFragment();
    for (const line of fresh) frag.append(this.renderLine(line));
    this.view.append(frag);
    // While following, keep the view bounded; drop the oldest lines only when at the bottom.
    const cap = Math.max(Number(this.form.elements.lines.value) || 200, 200);
    if (!initial && this.stick) while (this.view.childElementCount > cap) this.view.firstElementChild.remove();
    if (this.seen.size > cap * 4) this.seen = new Set([...this.seen].slice(-cap * 2));
    if (this.stick) this.scrollToEnd();
    else if (!initial) this.jump.hidden = false;
    if (!initial) {
      const n = this.view.querySelectorAll(".line").length;
      this.status.textContent = `${n} line${n === 1 ? "" : "s"} · following`;
    }
  }

  scrollToEnd() { this.view.scrollTop = this.view.scrollHeight; }

  setLive(state, text) {
    this.live.dataset.live = state;
    this.live.textContent = text;
  }

  // The stream resumes right after the newest line shown (its cursor) or, without one, sends
  // only lines written from now on; so it takes the filters but neither "lines" nor "since"
  // (journalctl refuses --since together with a cursor, and the browser's reconnect sends
  // Last-Event-ID, a cursor).
  streamParams() {
    const f = this.form.elements;
    const p = new URLSearchParams();
    if (f.priority.value) p.set("priority", f.priority.value);
    if (f.grep.value.trim()) p.set("grep", f.grep.value.trim());
    if (this.lastCursor) p.set("cursor", this.lastCursor);
    else p.set("lines", "0");
    return p;
  }

  startFollow() {
    this.stopFollow(true);
    if (!this.service) return;
    const source = new EventSource(`${this.base()}/logs/stream?${this.streamParams()}`);
    this.source = source;
    this.pauseButton.disabled = false;
    this.setLive("connecting", "Connecting…");
    source.onopen = () => {
      if (this.source === source) this.setLive(this.paused ? "paused" : "on", this.paused ? "Paused" : "Live");
    };
    source.onmessage = (ev) => {
      if (this.source !== source) return;
      let line;
      try { line = JSON.parse(ev.data); } catch (err) { return; }
      if (!line.cursor && ev.lastEventId) line.cursor = ev.lastEventId;
      if (!this.matches(line)) return;
      if (this.paused) {
        this.buffer.push(line);
        this.setLive("paused", `Paused · ${this.buffer.length} new`);
      } else {
        this.append([line], false);
      }
    };
    // What journalctl printed that is not a journal line (sudo's words, say): shown as is.
    source.addEventListener("notice", (ev) => {
      if (this.source !== source) return;
      try { this.append([{ message: JSON.parse(ev.data).message }], false); } catch (err) { /* ignore */ }
    });
    // The server ended the stream on purpose (its maximum duration): the browser reconnects
    // by itself and Last-Event-ID makes the stream resume without a gap.
    source.addEventListener("end", () => {
      if (this.source === source) this.setLive("connecting", "Reconnecting…");
    });
    source.addEventListener("error", (ev) => {
      if (this.source !== source) return;
      if (ev.data) { // the server's own "error" event: reconnecting would fail the same way
        let body = {};
        try { body = JSON.parse(ev.data); } catch (err) { body = { message: ev.data }; }
        this.stopFollow();
        this.follow.checked = false;
        this.status.replaceChildren(el("span", { class: "stream-error", text: `Follow stopped: ${body.message || body.error}` }),
          body.hint ? el("span", { class: "hint", text: ` Fix: ${body.hint}` }) : "");
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        this.stopFollow();
        this.follow.checked = false;
        this.setLive("off", "Stream closed");
      } else {
        this.setLive("connecting", "Reconnecting…");
      }
    });
  }

  stopFollow(restarting) {
    if (this.source) { this.source.close(); this.source = null; }
    if (!restarting) {
      this.setPaused(false);
      this.pauseButton.disabled = true;
      this.setLive("off", "Not following");
    }
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.textContent = paused ? "Resume" : "Pause";
    this.pauseButton.setAttribute("aria-pressed", paused ? "true" : "false");
    if (!paused && this.buffer.length) {
      const lines = this.buffer;
      this.buffer = [];
      this.append(lines, false);
    }
    if (this.source) this.setLive("on", paused ? "Paused · 0 new" : "Live");
  }

  // The command to run from one's own shell: through ssh to the service's host (quoted for
  // the remote shell), and with -f (no head) while the drawer follows.
  paintCommand() {
    let cmd = this.journalCommand || "";
    if (cmd && this.follow.checked) cmd = `${cmd.replace(/ \| head -n \d+$/, "")} -f`;
    const host = this.service && this.service.host;
    const text = cmd && host ? `ssh ${host} '${cmd.replace(/'/g, "'\\''")}'` : cmd;
    this.commandNode.textContent = text;
    this.commandNode.hidden = !text;
  }

  async copyCommand() {
    const text = this.commandNode.textContent;
    const button = this.node.querySelector("#logs-copy");
    const ok = text && (await copyText(text));
    button.textContent = ok ? "Copied" : "Copy failed: select the command below";
    setTimeout(() => { button.textContent = "Copy journalctl command"; }, 2000);
  }
}
