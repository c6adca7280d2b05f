// Shared parts of the add-host and manage-unit pages: an API error shown with its hint and
// every config error, and `recon check`'s gates run live with their fixes.
import { api, el } from "./recon.js";

export function showError(box, err) {
  const errors = (err.body && err.body.errors) || [];
  box.replaceChildren(
    el("strong", { text: err.message }),
    errors.length ? el("ul", {}, ...errors.map((e) => el("li", { text: e }))) : "",
    err.hint ? el("p", { class: "hint", text: `Fix: ${err.hint}` }) : "");
  box.hidden = false;
}

export async function runChecks(host, list, status) {
  status.textContent = "Checking…";
  list.replaceChildren();
  try {
    const result = await api("GET", `/api/onboarding/hosts/${encodeURIComponent(host)}/check`);
    list.replaceChildren(...result.gates.map((g) => el("li", { class: g.ok ? "gate gate-ok" : "gate gate-bad" },
      el("span", { class: "gate-mark", text: g.ok ? "✓ " : "✗ " }),
      el("span", { text: g.what }),
      g.fix ? el("div", { class: "hint", text: `Fix: ${g.fix}` }) : "")));
    status.textContent = result.ok ? "Every check passed." : "Some checks failed: each says its fix.";
    return result.ok;
  } catch (err) {
    status.textContent = `The checks could not run: ${err.message}`;
    return false;
  }
}

export function formValues(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) {
    if (key === "actions") (out.actions = out.actions || []).push(value);
    else if (value.trim() !== "") out[key] = value.trim();
  }
  return out;
}
