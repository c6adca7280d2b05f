// The terminal page: heartbeat while open, time left until the session's TTL, close button.
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

  // What the state label says for each close reason (the shell's own exit is not a "close").
  function label(reason) {
    if (reason === "shell_exited") return "Disconnected (shell exited)";
    if (reason === "revoked") return "Disconnected (your login ended)";
    return "Closed" + (reason ? " (" + reason + ")" : "");
  }

  function showClosed(reason) {
    if (closed && state.className.indexOf("term-closed") >= 0) return;
    closed = true;
    state.textContent = label(reason);
    state.className = "term-state term-closed";
    closeButton.disabled = true;
    clearInterval(beat);
    clearInterval(tick);
    const frame = document.getElementById("term-frame");
    if (frame) frame.remove();
    const p = document.createElement("p");
    p.className = "term-message";
    p.textContent = label(reason) + ". Open a new terminal from the dashboard.";
    box.replaceChildren(p);
  }

  function call(method, path) {
    return fetch("/api/terminals/" + encodeURIComponent(id) + path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.status === 404 || resp.status === 410) {
          showClosed(body.close_reason || (body.session && body.session.close_reason) || "");
        }
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
      if (s && s.closed_at) showClosed(s.close_reason || "");
      else if (!closed) return call("POST", "/heartbeat");
    }).catch(function () { /* retried next beat */ });
  }

  // The shell can end on its own (`exit`): RECON closes the session as shell_exited the
  // moment ttyd ends the WebSocket; a cheap status read every 2 s shows it here.
  function watch() {
    if (closed) return;
    call("GET", "").then(function (r) {
      const s = r.body && r.body.session;
      if (s && s.closed_at) showClosed(s.close_reason || "");
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
      if (r.status === 200) showClosed("user");
      else closeButton.disabled = closed;
    });
  });

  showTimeLeft();
  if (!closed) {
    tick = setInterval(showTimeLeft, 1000);
    beat = setInterval(heartbeat, every);
    heartbeat();
    setInterval(watch, 2000);
  }
})();
