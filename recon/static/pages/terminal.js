// The terminal page: heartbeat while open, time left until the session's TTL, close button;
// when the shell ends, why (ssh's error and its fix, from the session's `ended`, or the
// server that ran it is gone: `server_gone`) and the countdown stops.
(function () {
  "use strict";
  const box = document.getElementById("terminal");
  if (!box) return;
  const id = box.dataset.id;
  const csrf = box.dataset.csrf;
  const expires = Date.parse(box.dataset.expires);
  const every = Math.max(1, parseFloat(box.dataset.heartbeat) || 15) * 1000;
  const state = document.getElementById("term-state");
  const left = document.getElementById("term-left");
  const closeButton = document.getElementById("term-close");
  let closed = box.dataset.closed === "true";
  let beat = null;
  let tick = null;
  let watching = null;

  // What the state label says for each close reason (the shell's own exit is not a "close").
  function label(reason) {
    if (reason === "shell_exited") return "Disconnected (shell exited)";
    if (reason === "revoked") return "Disconnected (your login ended)";
    return "Closed" + (reason ? " (" + reason + ")" : "");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;  // host text: never as HTML
    return node;
  }

  // ssh could not connect, or its connection dropped: what happened, the fix, ssh's words.
  function endedBox(ended) {
    const div = el("div", "term-ended");
    div.setAttribute("role", "alert");
    div.dataset.code = ended.code;
    div.append(el("h2", "", ended.title), el("p", "", ended.message));
    const fix = el("p", "term-fix");
    fix.append(el("strong", "", "Fix:"), document.createTextNode(" " + ended.hint));
    div.append(fix);
    if (ended.detail) div.append(el("p", "", "ssh said:"), el("pre", "term-detail", ended.detail));
    if (ended.code !== "terminal_server_gone") {  // that hint already says so
      div.append(el("p", "", "Open a new terminal from the dashboard."));
    }
    return div;
  }

  function showClosed(reason, ended) {
    if (closed && state.className.indexOf("term-closed") >= 0) return;
    closed = true;
    clearInterval(beat);
    clearInterval(tick);
    clearInterval(watching);
    left.textContent = "ended";  // the countdown stops with the shell
    const failed = ended && ended.code !== "shell_exited";
    state.textContent = failed ? ended.title : label(reason);
    state.className = "term-state term-closed";
    closeButton.disabled = true;
    const frame = document.getElementById("term-frame");
    if (frame) frame.remove();
    if (failed) {
      box.replaceChildren(endedBox(ended));
      return;
    }
    box.replaceChildren(el("p", "term-message",
                           label(reason) + ". Open a new terminal from the dashboard."));
  }

  function closedFrom(body) {
    const s = (body && body.session) || {};
    // The server that ran it is gone (a replica died): said as an ssh failure is, from the
    // session or from a 410 `terminal_server_gone` answer.
    const gone = s.server_gone || (body.error === "terminal_server_gone" ? {
      code: body.error, title: body.title, message: body.message, hint: body.hint } : null);
    showClosed(body.close_reason || s.close_reason || "", gone || s.ended);
  }

  function call(method, path) {
    return fetch("/api/terminals/" + encodeURIComponent(id) + path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.status === 404 || resp.status === 410) closedFrom(body);
        return { status: resp.status, body: body };
      });
    });
  }

  // Read the state first: a heartbeat on a session the shell's `exit` just closed would
  // answer 410, which the browser reports as a failed resource.
  function heartbeat() {
    if (closed) return;
    call("GET", "").then(function (r) {
      const s = r.body && r.body.session;
      if (s && s.closed_at) closedFrom(r.body);
      else if (!closed) return call("POST", "/heartbeat");
    }).catch(function () { /* retried next beat */ });
  }

  // The shell can end on its own (`exit`, or ssh failing): RECON closes the session as
  // shell_exited the moment ttyd ends the WebSocket; a cheap status read every second shows
  // it here, with why.
  function watch() {
    if (closed) return;
    call("GET", "").then(function (r) {
      const s = r.body && r.body.session;
      if (s && s.closed_at) closedFrom(r.body);
    }).catch(function () { /* next time */ });
  }

  function showTimeLeft() {
    const ms = expires - Date.now();
    if (isNaN(ms)) return;
    const s = Math.max(0, Math.round(ms / 1000));
    left.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  closeButton.addEventListener("click", function () {
    closeButton.disabled = true;
    call("DELETE", "").then(function (r) {
      if (r.status === 200) showClosed("user", r.body.session && r.body.session.ended);
      else closeButton.disabled = closed;
    });
  });

  if (!closed) {
    showTimeLeft();
    tick = setInterval(showTimeLeft, 1000);
    beat = setInterval(heartbeat, every);
    heartbeat();
    watching = setInterval(watch, 1000);
  }
})();
