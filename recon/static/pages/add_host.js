// Add a host: values -> the key it offers, confirmed by the admin (never accepted unseen)
// -> what to install on it -> the checks -> its units.
import { api, copyText, el } from "../lib/recon.js";
import { formValues, runChecks, showError } from "../lib/onboard.js";

const $ = (id) => document.getElementById(id);
const form = $("host-form");
let values = null;
let offered = null;

function values_() {
  const v = formValues(form);
  if (v.port) v.port = Number(v.port);
  return v;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("values-error").hidden = true;
  $("step-key").hidden = true;
  values = values_();
  $("scan").disabled = true;
  try {
    offered = await api("POST", "/api/onboarding/hosts/scan", values);
    $("key-where").textContent = offered.where;
    $("key-type").textContent = offered.key_type;
    $("key-fp").textContent = offered.fingerprint;
    $("key-verify").textContent = offered.verify_on_host;
    $("key-note").textContent = offered.trusted
      ? "RECON already trusts this key for this address."
      : offered.changed ? "RECON trusts ANOTHER key for this address: the host was reinstalled, or someone is in between."
        : "RECON has never seen this host: trust it only if the fingerprints match.";
    $("confirm-key").disabled = offered.changed;
    $("step-key").hidden = false;
    $("confirm-key").focus();
  } catch (err) {
    showError($("values-error"), err);
  } finally {
    $("scan").disabled = false;
  }
});

$("cancel-key").addEventListener("click", () => { $("step-key").hidden = true; offered = null; });

$("confirm-key").addEventListener("click", async () => {
  $("key-error").hidden = true;
  $("confirm-key").disabled = true;
  try {
    const done = await api("POST", "/api/config/hosts", { ...values, fingerprint: offered.fingerprint });
    $("install-where").textContent = done.authorized_keys;
    $("install-key").textContent = done.public_key;
    $("install-sudoers").textContent = done.sudoers;
    $("install-sudoers-cmd").textContent = done.sudoers_install;
    $("choose-units").href = `/hosts/${encodeURIComponent(done.host)}`;
    for (const id of ["step-install", "step-check"]) $(id).hidden = false;
    for (const input of form.elements) input.disabled = true;
    $("step-key").hidden = true;
    $("step-install-h").focus?.();
  } catch (err) {
    showError($("key-error"), err);
    $("confirm-key").disabled = false;
  }
});

$("copy-key").addEventListener("click", async () => {
  const ok = await copyText($("install-key").textContent);
  $("copy-key").textContent = ok ? "Copied" : "Copy failed: select it";
});

$("run-check").addEventListener("click", () => runChecks(values.name, $("gates"), $("check-status")));
