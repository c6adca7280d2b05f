// The users page: GET/POST /api/users, PATCH/DELETE /api/users/NAME (admin API: checked,
// CSRF-protected and audited there). Removing a user, lowering a role and making an admin are
// confirmed first; a generated password is shown once.
import { api, askConfirm, el } from "../lib/recon.js";
import {
  aRole, cell, emptyRow, fmtWhen, hideSecret, report, say, showSecret, wirePasswordChoice, wireSecret,
} from "../lib/admin.js";

const ROLES = ["viewer", "operator", "admin"];
const tbody = document.querySelector("#users tbody");
const addForm = document.getElementById("user-add");
const passwdDialog = document.getElementById("passwd");
const passwdForm = document.getElementById("passwd-form");
let me = null;

function roleCell(user, onlyAdmin) {
  const select = el("select", { "aria-label": `Role of ${user.username}`, dataset: { role: user.username } },
    ROLES.map((r) => el("option", {
      value: r, text: r, selected: r === user.role,
      // The last admin keeps the role: the API refuses it too (last_admin).
      disabled: onlyAdmin && r !== "admin",
    })));
  select.addEventListener("change", () => changeRole(user, select));
  return select;
}

function row(user, onlyAdmin) {
  const self = user.username === me;
  const name = el("strong", { text: user.username });
  return el("tr", { role: "row", dataset: { user: user.username } },
    cell("User", {}, name, self ? el("span", { class: "muted", text: " (you)" }) : null),
    cell("Role", {}, roleCell(user, onlyAdmin),
      onlyAdmin ? el("span", { class: "muted note", text: "the only admin" }) : null),
    cell("Created", { text: fmtWhen(user.created_at) || "—" }),
    cell("Last login", { text: fmtWhen(user.last_login_at) || "never (or through a proxy)" }),
    cell("Actions", { class: "row-actions" },
      el("button", { type: "button", class: "btn btn-sm", text: "Reset password",
        "aria-label": `Reset the password of ${user.username}`, onclick: () => resetPassword(user) }),
      el("button", { type: "button", class: "btn btn-sm btn-danger", text: "Remove",
        "aria-label": `Remove ${user.username}`, disabled: onlyAdmin,
        title: onlyAdmin ? "The only admin cannot be removed: make another user an admin first" : null,
        onclick: () => remove(user) })));
}

async function load() {
  try {
    const [who, data] = await Promise.all([api("GET", "/api/me"), api("GET", "/api/users")]);
    me = who.username;
    const admins = data.users.filter((u) => u.role === "admin").length;
    tbody.replaceChildren(...data.users.map((u) => row(u, u.role === "admin" && admins === 1)));
    if (!data.users.length) tbody.append(emptyRow(5, "No users yet."));
  } catch (err) {
    report("Could not load the users", err);
  }
}

async function changeRole(user, select) {
  const role = select.value;
  const lower = ROLES.indexOf(role) < ROLES.indexOf(user.role);
  const self = user.username === me;
  if (lower || role === "admin") {
    const text = lower
      ? `${user.username} goes from ${user.role} to ${role}: their open terminals close and they lose what ${user.role}s may do.${self ? " This is you: you will lose access to these pages." : ""}`
      : `${user.username} becomes an admin: they may manage users, tokens and every service.`;
    const ok = await askConfirm({ title: `Make ${user.username} ${aRole(role)}?`, text, ok: `Make ${role}` });
    if (!ok) { select.value = user.role; return; }
  }
  try {
    await api("PATCH", `/api/users/${encodeURIComponent(user.username)}`, { role });
    say(`${user.username} is now ${aRole(role)}.`);
    if (self && lower) { window.location.assign("/"); return; }
  } catch (err) {
    report(`Could not change the role of ${user.username}`, err);
  }
  load();
}

function resetPassword(user) {
  const self = user.username === me;
  document.getElementById("passwd-title").textContent = `Reset the password of ${user.username}`;
  document.getElementById("passwd-text").textContent = self
    ? "This is you: every session of yours ends, this one too; log in again with the new password."
    : `Every open session and terminal of ${user.username} ends at once.`;
  passwdForm.reset();
  passwdDialog.returnValue = "";
  passwdDialog.onclose = async () => {
    if (passwdDialog.returnValue !== "ok") return;
    const { password, generated } = passwdChoice();
    try {
      await api("PATCH", `/api/users/${encodeURIComponent(user.username)}`, { password });
      say(`The password of ${user.username} was changed${self ? "; you are logged out" : ""}.`);
      if (generated) {
        showSecret({ title: `New password of ${user.username}`, label: `New password of ${user.username}`, value: password,
          owner: user.username, why: "Give it to them by a private channel; they can keep it or ask for another." });
      }
      if (!self) load(); // our own session ended: the next call would go to the login page
    } catch (err) {
      report(`Could not reset the password of ${user.username}`, err);
    }
  };
  passwdDialog.showModal();
}

async function remove(user) {
  const self = user.username === me;
  const ok = await askConfirm({
    title: `Remove ${user.username}?`,
    text: `${user.username} (${user.role}) can no longer log in; their sessions and terminals end at once. The audit trail keeps what they did.${self ? " This is you: you will be logged out." : ""}`,
    ok: "Remove user",
  });
  if (!ok) return;
  try {
    await api("DELETE", `/api/users/${encodeURIComponent(user.username)}`);
    say(`${user.username} was removed.`);
    hideSecret(user.username);
    if (self) { window.location.assign("/login"); return; }
  } catch (err) {
    report(`Could not remove ${user.username}`, err);
  }
  load();
}

const addChoice = wirePasswordChoice(addForm);
const passwdChoice = wirePasswordChoice(passwdForm);
passwdForm.addEventListener("reset", () => setTimeout(() => passwdForm.elements.pwmode[0].dispatchEvent(new Event("change")), 0));
addForm.addEventListener("reset", () => setTimeout(() => addForm.elements.pwmode[0].dispatchEvent(new Event("change")), 0));

addForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const username = addForm.elements.username.value.trim();
  const role = addForm.elements.role.value;
  const { password, generated } = addChoice();
  const button = addForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", "/api/users", { username, password, role });
    say(`${username} was added as ${aRole(role)}.`);
    addForm.reset();
    if (generated) {
      showSecret({ title: `Password of ${username}`, label: `Password of ${username}`, value: password,
        owner: username, why: "Give it to them by a private channel." });
    }
    load();
  } catch (err) {
    report(`Could not add ${username}`, err);
  } finally {
    button.disabled = false;
  }
});

wireSecret();
load();
