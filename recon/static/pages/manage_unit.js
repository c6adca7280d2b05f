// Manage a unit: the form's choice, the exact sudoers lines it needs (live, before saving),
// saved to recon.toml (validated, audited, applied at once), then the checks.
import { api, el } from "../lib/recon.js";
import { formValues, runChecks, showError } from "../lib/onboard.js";

const $ = (id) => document.getElementById(id);
const root = $("manage");
const host = root.dataset.host;
const form = $("unit-form");

function choice() {
  const v = formValues(form);
  for (const key of ["tags", "allow"]) {
    if (v[key]) v[key] = v[key].split(",").map((s) => s.trim()).filter(Boolean);
  }
  v.actions = v.actions || [];
  v.host = host;
  return v;
}

let timer = null;
let asked = 0;
async function preview() {
  const mine = ++asked;
  const v = choice();
  if (!v.unit) { $("rules").textContent = "Name a unit first."; return; }
  try {
    const got = await api("POST", "/api/onboarding/services/preview", v);
    if (mine !== asked) return;
    $("rules").textContent = got.sudoers.length ? got.sudoers.join("\n") : "(none: status needs no sudo)";
    $("form-error").hidden = true;
  } catch (err) {
    if (mine !== asked) return;
    $("rules").textContent = "";
    showError($("form-error"), err);
  }
}
form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(preview, 250); });
preview();

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("save").disabled = true;
  try {
    const done = await api("POST", "/api/config/services", { ...choice(), base: root.dataset.revision });
    root.dataset.revision = done.revision;
    const setup = await api("GET", `/api/onboarding/hosts/${encodeURIComponent(host)}/setup`);
    $("sudoers").textContent = setup.sudoers;
    $("sudoers-cmd").textContent = setup.sudoers_install;
    $("open-service").href = `/services/${encodeURIComponent(done.service.slug)}`;
    $("saved").hidden = false;
    $("form-error").hidden = true;
    for (const input of form.elements) input.disabled = true;
    $("saved").scrollIntoView({ block: "start" });
    $("run-check").focus();
  } catch (err) {
    showError($("form-error"), err);
    $("save").disabled = false;
  }
});

$("run-check").addEventListener("click", () => runChecks(host, $("gates"), $("check-status")));
