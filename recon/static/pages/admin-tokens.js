// The API tokens page: GET/POST /api/tokens, DELETE /api/tokens/NAME (admin API: checked,
// CSRF-protected and audited there). A new token's value is shown once; revoking is confirmed.
import { api, askConfirm, el } from "../lib/recon.js";
import {
  cell, emptyRow, fmtWhen, hideSecret, report, say, showSecret, wireSecret,
} from "../lib/admin.js";

const tbody = document.querySelector("#tokens tbody");
const form = document.getElementById("token-add");

function row(t) {
  const state = t.revoked
    ? el("span", { class: "result result-bad", text: "✗ revoked" })
    : el("span", { class: "result result-ok", text: "✓ active" });
  return el("tr", { role: "row", dataset: { token: t.name, revoked: t.revoked ? "yes" : "no" } },
    cell("Token", {}, el("strong", { text: t.name })),
    cell("Role", { text: t.role }),
    cell("State", {}, state),
    cell("Created", { text: fmtWhen(t.created_at) || "—" }),
    cell("Created by", { text: t.created_by || "not recorded" }),
    cell("Last used", { text: fmtWhen(t.last_used_at) || "never" }),
    cell("Actions", { class: "row-actions" }, t.revoked ? el("span", { class: "muted", text: "—" })
      : el("button", { type: "button", class: "btn btn-sm btn-danger", text: "Revoke",
        "aria-label": `Revoke the token ${t.name}`, onclick: () => revoke(t) })));
}

async function load() {
  try {
    const data = await api("GET", "/api/tokens");
    // Active tokens first: the revoked ones stay listed because their names stay taken.
    const tokens = [...data.tokens].sort((a, b) => Number(a.revoked) - Number(b.revoked));
    tbody.replaceChildren(...tokens.map(row));
    if (!tokens.length) tbody.append(emptyRow(7, "No API tokens yet."));
  } catch (err) {
    report("Could not load the tokens", err);
  }
}

async function revoke(t) {
  const ok = await askConfirm({
    title: `Revoke the token ${t.name}?`,
    text: `Every script that uses ${t.name} (${t.role}) is refused from now on, and terminals opened with it close. This cannot be undone: create a new token instead.`,
    ok: "Revoke token",
  });
  if (!ok) return;
  try {
    await api("DELETE", `/api/tokens/${encodeURIComponent(t.name)}`);
    say(`The token ${t.name} was revoked.`);
    hideSecret(t.name);
  } catch (err) {
    report(`Could not revoke ${t.name}`, err);
  }
  load();
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const name = form.elements.name.value.trim();
  const role = form.elements.role.value;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const made = await api("POST", "/api/tokens", { name, role });
    say(`The token ${name} (${role}) was created.`);
    form.reset();
    showSecret({ title: `Token ${name}`, label: `Value of the token ${name}`, value: made.token, owner: name,
      why: "RECON keeps only its hash. Store it where your script reads its secrets." });
    load();
  } catch (err) {
    report(`Could not create the token ${name}`, err);
  } finally {
    button.disabled = false;
  }
});

wireSecret();
load();
