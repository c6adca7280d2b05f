// The host page: every unit of one host, from the list the page came with (#h-data), filtered
// here as the user types (the filters live in the query string, so a URL can be shared).
// Every refresh_seconds it asks for the stored list again (the monitor's process rereads the
// host every host_units_seconds); Refresh asks for a fresh read of the host (?fresh=1).
import { api, el, fmtAgo } from "../lib/recon.js";
import { FILTERS, failedFirst, matches, unitRow } from "../lib/unitlist.js";

const root = document.getElementById("host");
const form = document.getElementById("h-filters");
const tbody = document.querySelector("#h-units tbody");
const summary = document.getElementById("h-summary");
const updated = document.getElementById("h-updated");
const errorBox = document.getElementById("h-error");
const empty = document.getElementById("h-empty");
const refreshBtn = document.getElementById("h-refresh");
const url = `/api/hosts/${encodeURIComponent(root.dataset.host)}/units`;
let data = JSON.parse(document.getElementById("h-data").textContent);

function current() {
  const f = {};
  for (const name of [...FILTERS, "q"]) f[name] = form.elements[name].value.trim();
  return f;
}

function showError(title, body) {
  errorBox.replaceChildren(el("p", {}, el("strong", { text: title }), " ", body.message || ""),
    body.hint ? el("p", { class: "hint", text: body.hint }) : null);
  errorBox.hidden = false;
}

function showAge() {
  if (!data.read_at) {
    updated.textContent = "Not read yet";
  } else {
    updated.textContent = `Read ${fmtAgo(Date.now() / 1000 - Date.parse(data.read_at) / 1000)}`;
    updated.title = `${data.read_at} (read every ${root.dataset.every} s)`;
  }
}

function showFreshness() {
  showAge();
  if (data.error) {
    showError(`The last read failed (${data.error.error}).`, {
      message: data.error.message,
      hint: data.read_at ? "The list below is the last one read." : "Refresh to try again.",
    });
  } else {
    errorBox.hidden = true;
  }
}

// What the rows on screen were built from: an event that changes neither (the search box's
// "change" when it loses the focus, on the way to a click on a row's link) must not rebuild
// them under the pointer.
let shownKey = "";

function render(force) {
  const f = current();
  const key = JSON.stringify(f);
  if (!force && key === shownKey) return;
  shownKey = key;
  const shown = failedFirst(data.units.filter((u) => matches(u, f)));
  tbody.replaceChildren(...shown.map(unitRow));
  const failed = data.units.filter((u) => u.active === "failed").length;
  const parts = [shown.length === data.units.length ? `${data.units.length} units`
    : `${shown.length} of ${data.units.length} units`];
  if (failed) parts.push(`${failed} failed`);
  parts.push(`${data.managed} managed`);
  summary.textContent = parts.join(" · ");
  empty.hidden = shown.length > 0;
  empty.textContent = data.units.length ? "No unit matches the filters."
    : "No units yet: the host has not been read.";
  const p = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
  history.replaceState(null, "", p.toString() ? `?${p}` : location.pathname);
  showFreshness();
}

async function reload(fresh) {
  try {
    const next = await api("GET", fresh ? `${url}?fresh=1` : url);
    if (fresh || next.read_at !== data.read_at || next.error?.message !== data.error?.message) {
      data = next;
      render(true);
    }
    return true;
  } catch (err) {
    if (fresh) showError(`Could not read ${root.dataset.host}:`, { message: err.message, hint: err.hint });
    return false;
  }
}

// Filters from the query string first, then on every change.
const initial = new URLSearchParams(location.search);
for (const name of [...FILTERS, "q"]) {
  const v = initial.get(name);
  if (v && form.elements[name] && (name === "q" || [...form.elements[name].options].some((o) => o.value === v))) {
    form.elements[name].value = v;
  }
}
form.addEventListener("input", () => render());
form.addEventListener("change", () => render());
form.addEventListener("submit", (ev) => ev.preventDefault());
form.addEventListener("reset", () => setTimeout(() => render(), 0));
refreshBtn.addEventListener("click", async () => {
  refreshBtn.disabled = true;
  refreshBtn.textContent = "Reading…";
  await reload(true);
  refreshBtn.disabled = false;
  refreshBtn.textContent = "Refresh";
});
render(true);
// Tests and the bench read how long the first rows took from the navigation's start.
performance.mark("recon-units-rendered");
document.documentElement.dataset.unitsLoaded = "1";
// The stored list again every refresh_seconds; every 2 s while the host was never read (a
// host just added: its first list is due within seconds of its monitor taking it).
const pause = () => (data.read_at ? Math.max(2, Number(root.dataset.refreshSeconds) || 30) : 2) * 1000;
async function poll() {
  if (!document.hidden) await reload(false);
  setTimeout(poll, pause());
}
setTimeout(poll, pause());
setInterval(showAge, 5000);
