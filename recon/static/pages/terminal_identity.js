// The terminal page's "you are LOGIN on HOST" line: the login the shell runs as (stored when
// it opened), then what that login may do (`id -Gn`, `sudo -n -l` asked once, as it).
(function () {
  "use strict";
  const line = document.getElementById("term-identity");
  if (!line) return;
  const base = "/api/terminals/" + encodeURIComponent(line.dataset.id) + "/identity";
  const who = document.getElementById("term-who");
  const rights = document.getElementById("term-rights");
  const rules = document.getElementById("term-rules");

  function get(path) {
    return fetch(base + path, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (body) {
          if (!resp.ok) throw new Error(body.message || ("HTTP " + resp.status));
          return body;
        });
      });
  }

  function bold(text) {
    const b = document.createElement("strong");
    b.textContent = text;
    return b;
  }

  function showWho(id) {
    if (!id.login) { who.textContent = "Terminal on " + id.host; return; }
    const how = id.mapped ? " (your own login" + (id.key === "dashboard" ? ", dashboard key)" : ")")
      : " (the host's shared terminal login)";
    who.replaceChildren("You are ", bold(id.login), " on ", bold(id.host), how);
  }

  function showRights(id) {
    const p = id.probe;
    if (!p) return;
    let text = p.summary;
    if (p.groups && p.groups.length) text += " · groups: " + p.groups.join(" ");
    rights.textContent = text;
    rights.dataset.sudo = p.sudo || "error";
    if (p.rules && p.rules.length > 3) {
      const summary = document.createElement("summary");
      summary.textContent = "all " + p.rules.length + " sudo rules";
      const list = document.createElement("ul");
      p.rules.forEach(function (r) {
        const li = document.createElement("li");
        li.textContent = r;
        list.appendChild(li);
      });
      rules.replaceChildren(summary, list);
      rules.hidden = false;
    }
  }

  get("").then(function (id) {
    showWho(id);
    if (id.probe) { showRights(id); return; }
    if (line.dataset.closed === "true") return;
    rights.textContent = "asking the host what " + (id.login || "this login") + " may do…";
    return get("/sudo").then(showRights);
  }).catch(function (err) {
    rights.textContent = "could not tell what this login may do (" + err.message + ")";
  });
})();
