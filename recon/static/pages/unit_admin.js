// The unit page's admin control: stop managing the service (it leaves recon.toml, validated,
// backed up and audited; the unit on the host is not touched).
import { api, askConfirm } from "../lib/recon.js";

const root = document.getElementById("unit");
const button = document.getElementById("u-unmanage");
const error = document.getElementById("u-error");

button?.addEventListener("click", async () => {
  const ok = await askConfirm({
    title: `Stop managing ${root.dataset.name}?`,
    text: `RECON removes ${root.dataset.slug} from recon.toml and stops watching ${root.dataset.unit} on ${root.dataset.host}. The unit itself keeps running as it is; its history stays.`,
    ok: "Stop managing",
  });
  if (!ok) return;
  button.disabled = true;
  try {
    await api("DELETE", `/api/config/services/${encodeURIComponent(root.dataset.slug)}`);
    window.location.assign(`/hosts/${encodeURIComponent(root.dataset.host)}`);
  } catch (err) {
    error.textContent = `${err.message}${err.hint ? ` Fix: ${err.hint}` : ""}`;
    error.hidden = false;
    button.disabled = false;
  }
});
