// The host page's unit list: the filters (the same rules as recon/hosts/filters.py) and the
// rows, built as text only (names and descriptions come from the host).
import { el } from "./recon.js";

export const FILTERS = ["type", "active", "file_state"];

// {type, active, file_state, q} from a form or a query string; "" lets everything through.
export function matches(unit, f) {
  if (f.type && unit.type !== f.type) return false;
  if (f.active && unit.active !== f.active) return false;
  if (f.file_state && (unit.file_state || "none") !== f.file_state) return false;
  if (f.q) {
    const needle = f.q.toLowerCase();
    return unit.name.toLowerCase().includes(needle)
      || (unit.description || "").toLowerCase().includes(needle);
  }
  return true;
}

// Failed first, then by name (the API's order too).
export function failedFirst(units) {
  return [...units].sort((a, b) => (a.active !== "failed") - (b.active !== "failed")
    || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// The dashboard's state look for systemd's active state: colour AND text.
const LOOK = {
  active: "running", failed: "failed", inactive: "stopped", activating: "busy",
  deactivating: "busy", reloading: "busy", refreshing: "busy", maintenance: "busy",
};

function stateCell(u) {
  const look = u.load === "not-found" ? "missing" : LOOK[u.active] || "unknown";
  const word = u.load === "not-found" ? "not found" : u.active;
  return [look, el("span", { class: "unit-state", dataset: { state: look } },
    el("span", { class: "state" }, el("span", { class: "dot", "aria-hidden": "true" }),
      word, u.sub && u.sub !== u.active ? el("span", { class: "sub", text: ` · ${u.sub}` }) : null))];
}

function serviceCell(u) {
  if (u.managed) {
    return el("a", { href: u.service_url, "aria-label": `Service ${u.service} (${u.name})` },
      u.service);
  }
  // MANAGE: the admin's form to add this unit as a service (GET /hosts/<name>/manage?unit=).
  // The server sends manage_url to admins only, so no one else is shown the button.
  if (u.manage_url) {
    return el("a", { class: "btn btn-sm", href: u.manage_url, dataset: { manage: u.name },
      "aria-label": `Manage ${u.name}` }, "Manage");
  }
  return el("span", { class: "read-only", text: "not managed" });
}

export function unitRow(u) {
  const [look, state] = stateCell(u);
  const cell = (label, props, ...kids) => el("td", { role: "cell", dataset: { label }, ...props }, ...kids);
  const fileState = u.file_state
    ? el("span", { class: "file-state" }, u.file_state,
      u.preset ? el("span", { class: "sub", text: ` · preset ${u.preset}` }) : null)
    : el("span", { class: "muted", text: "—" });
  return el("tr", { role: "row", dataset: { unit: u.name, state: look, managed: u.managed ? "yes" : "no" } },
    cell("State", {}, state),
    cell("Unit", {}, el("span", { class: "unit-name", text: u.name }),
      u.managed ? el("span", { class: "managed-tag", text: "Managed" }) : null),
    cell("Description", { text: u.description || "—" }),
    cell("Unit file", {}, fileState),
    cell("Service", {}, serviceCell(u)));
}
