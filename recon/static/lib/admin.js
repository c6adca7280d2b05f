// Shared parts of the admin pages (users, tokens, channels): the page's status line and error
// box, a secret shown once with a copy button, generated passwords, and API times.
import { copyText, el } from "./recon.js";

const statusLine = () => document.getElementById("admin-status");
const errorBox = () => document.getElementById("admin-error");

// A done action, read out by screen readers (role=status), and the error box cleared.
export function say(text) {
  errorBox().hidden = true;
  statusLine().textContent = text;
}

// A refused or failed call: the API's message and hint, as text.
export function report(what, err) {
  statusLine().textContent = "";
  const box = errorBox();
  box.replaceChildren(el("p", { text: `${what}: ${err.message}` }),
    err.hint ? el("p", { class: "hint", text: err.hint }) : null);
  box.hidden = false;
}

// The API's times are UTC; the older fields carry no zone, so one is added before parsing
// (a bare ISO time would be read as the browser's local time).
export function fmtWhen(iso) {
  if (!iso) return null;
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// 16 characters from 12 random bytes, the same strength as the CLI's --generate.
export function generatePassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

// Show a secret once: it lives only in this box until "Done" (or a reload) and is never
// written anywhere else on the page. ``owner`` (a user or token name) lets hideSecret clear
// it when what it opens is removed.
export function showSecret({ title, why, label, value, owner }) {
  const box = document.getElementById("secret");
  const input = document.getElementById("secret-value");
  const copied = document.getElementById("secret-copied");
  document.getElementById("secret-title").textContent = title;
  document.getElementById("secret-why").textContent = why || "";
  document.getElementById("secret-label").textContent = label;
  input.value = value;
  box.dataset.owner = owner || "";
  copied.textContent = "";
  box.hidden = false;
  box.focus();
  input.select();
}

// Clear the secret on show if it belongs to ``owner`` (removed or revoked: it opens nothing).
export function hideSecret(owner) {
  const box = document.getElementById("secret");
  if (box.hidden || box.dataset.owner !== owner) return;
  document.getElementById("secret-value").value = "";
  box.hidden = true;
}

export function wireSecret() {
  const box = document.getElementById("secret");
  const input = document.getElementById("secret-value");
  const copied = document.getElementById("secret-copied");
  document.getElementById("secret-copy").addEventListener("click", async () => {
    const ok = await copyText(input.value);
    copied.textContent = ok ? "Copied to the clipboard." : "Could not copy: select the text and copy it by hand.";
    if (!ok) input.select();
  });
  document.getElementById("secret-done").addEventListener("click", () => {
    input.value = "";
    box.hidden = true;
  });
}

// The "generate / set" password choice of a form: the password field shows for "set".
export function wirePasswordChoice(form) {
  const field = form.querySelector(".pw-field");
  const input = form.elements.password;
  const sync = () => {
    const set = form.elements.pwmode.value === "set";
    field.hidden = !set;
    input.required = set;
    if (!set) input.value = "";
  };
  for (const radio of form.elements.pwmode) radio.addEventListener("change", sync);
  sync();
  // The password to send and whether it was generated (so it must be shown once).
  return () => (form.elements.pwmode.value === "set"
    ? { password: input.value, generated: false }
    : { password: generatePassword(), generated: true });
}

// "a viewer", "an operator", "an admin".
export function aRole(role) {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

// A table body's single "nothing here" row.
export function emptyRow(columns, text) {
  return el("tr", { role: "row" }, el("td", { role: "cell", colspan: columns, class: "empty", text }));
}

// A cell in the audit-table style: data-label names the column when a phone stacks the row.
export function cell(label, props, ...kids) {
  const { text, ...rest } = props || {};
  return el("td", { role: "cell", dataset: { label }, ...rest }, el("span", { class: "v", text }, ...kids));
}
