// The dashboard's rolling restart: pick services (by hand, by tag or by host), confirm, then
// follow the run step by step (GET /api/actions/<id>) and cancel it (DELETE). A run still
// going when the page loads is picked up again, whichever worker runs it. The services to
// pick (one checkbox each, grouped by host) are built from the page's data-fleet when the
// panel first opens, so a large fleet's page does not carry them until they are wanted.
import { api, askConfirm, el, setText } from "./recon.js";
import { fleetData, servicesOf } from "./fleet.js";

const box = document.getElementById("rolling");
const POLL_MS = 1000;
const STEP_TEXT = { pending: "Waiting", running: "Running…", ok: "Done", failed: "Failed", skipped: "Skipped" };
const RUN_TEXT = {
  running: "Running", succeeded: "Succeeded", failed: "Stopped at a failure",
  cancelled: "Cancelled", interrupted: "Interrupted",
};

if (box) {
  const form = document.getElementById("rolling-form");
  const action = document.getElementById("rolling-action");
  const byTag = document.getElementById("rolling-tag");
  const byHost = document.getElementById("rolling-host");
  const startBtn = document.getElementById("rolling-start");
  const count = document.getElementById("rolling-count");
  const progress = document.getElementById("rolling-progress");
  const stepsList = document.getElementById("rolling-steps");
  const stateBadge = document.getElementById("rolling-state");
  const message = document.getElementById("rolling-message");
  const cancelBtn = document.getElementById("rolling-cancel");
  const pick = form.querySelector(".rolling-pick");
  let boxes = [];
  let current = null; // the run followed
  let timer = null;
  let unable = new Map(); // slug -> why it cannot take any rolling action now (masked, not found)

  // A masked unit cannot be started or restarted, a unit the host does not have cannot take
  // anything: such services are not offered (read from the snapshot when the panel opens).
  async function readUnable() {
    try {
      const next = new Map();
      for (const s of servicesOf(await api("GET", "/api/services?view=compact"))) {
        if (s.load_state === "not-found") next.set(s.slug, `${s.unit} does not exist on ${s.host}`);
        else if (s.masked || s.load_state === "masked") next.set(s.slug, `${s.unit} is masked: unmask it first`);
      }
      unable = next;
      paintPick();
    } catch (err) { /* the server refuses what cannot be done anyway */ }
  }

  // One group per host (in the order the server gave), one checkbox per service this user may
  // include in a rolling action, with the rolling actions it allows.
  function buildPick() {
    if (pick.dataset.built) return;
    pick.dataset.built = "1";
    const { services, rolling_hosts: hosts } = fleetData();
    const groups = new Map(hosts.map((h) => [h, []]));
    for (const [slug, name, host, , tags, , acts] of services) {
      if (acts.length && groups.has(host)) groups.get(host).push({ slug, name, host, tags, acts });
    }
    let n = 0;
    pick.append(...[...groups].filter(([, items]) => items.length).map(([host, items]) => {
      n += 1;
      return el("div", { class: "rolling-host", role: "group", "aria-labelledby": `rolling-host-${n}` },
        el("span", { class: "rolling-host-name", id: `rolling-host-${n}`, text: host }),
        ...items.map((s) => el("label", { class: "check" }, el("input", {
          type: "checkbox", name: "services", value: s.slug,
          dataset: { host: s.host, tags: s.tags.join(" "), actions: s.acts.join(" "), name: s.name },
        }), ` ${s.name}`)));
    }));
    boxes = [...form.querySelectorAll('input[name="services"]')];
    paintPick();
  }

  const picked = () => boxes.filter((b) => b.checked && !b.disabled);
  const verb = () => action.options[action.selectedIndex].text;

  function paintPick() {
    for (const b of boxes) {
      const why = unable.get(b.value);
      const ok = !why && b.dataset.actions.split(" ").includes(action.value);
      b.disabled = !ok;
      if (!ok) b.checked = false;
      b.closest("label").title = why || (ok ? "" : `${verb()} is not allowed for this service`);
      b.closest("label").dataset.unable = why ? "yes" : "";
    }
    const n = picked().length;
    const hosts = new Set(picked().map((b) => b.dataset.host)).size;
    count.textContent = n ? `${n} service${n === 1 ? "" : "s"} on ${hosts} host${hosts === 1 ? "" : "s"}` : "No service picked";
    startBtn.textContent = `Start rolling ${action.value}`;
    startBtn.disabled = !n || Boolean(current && current.state === "running");
  }

  function pickWhere(test) {
    for (const b of boxes) b.checked = !b.disabled && test(b);
    paintPick();
  }

  // Hosts side by side and the wait between those batches (the panel's two number fields).
  function batching() {
    const batch = Math.min(50, Math.max(1, Math.round(Number(document.getElementById("rolling-batch").value) || 1)));
    const pause = Math.min(3600, Math.max(0, Number(document.getElementById("rolling-pause").value) || 0));
    return { batch_hosts: batch, pause_seconds: pause };
  }

  function confirmRun(items) {
    const hosts = [...new Set(items.map((b) => b.dataset.host))];
    const settle = Number(form.dataset.settle) || 0;
    const { batch_hosts: batch, pause_seconds: pause } = batching();
    const pace = batch === 1 ? "one host at a time" : `${batch} hosts at a time`;
    return askConfirm({
      title: `Rolling ${action.value} of ${items.length} service${items.length === 1 ? "" : "s"}?`,
      text: `${verb()} ${items.map((b) => `${b.dataset.name} (${b.dataset.host})`).join(", ")}: ${pace} `
        + `(${hosts.join(" → ")})` + (pause ? `, ${pause} s apart` : "") + ", waiting until each is active again"
        + (settle ? ` and has stayed up for ${settle} s` : "") + ". The first failure stops the rest.",
      ok: `${verb()} ${items.length}`,
    });
  }

  function stepNote(s) {
    // settle_left is counted by the server's clock: this browser's may be skewed.
    if (s.state === "running" && s.settle_left > 0) return `active, settling: ${Math.ceil(s.settle_left)} s left`;
    return s.message || (s.main_pid ? `PID ${s.main_pid}` : "");
  }

  function paintRun(run) {
    current = run;
    progress.hidden = false;
    setText(document.getElementById("rolling-title"), `Rolling ${run.action} #${run.id} · ${run.actor}`
      + (run.settle_seconds ? ` · settle ${run.settle_seconds} s` : "")
      + (run.batch_hosts > 1 ? ` · ${run.batch_hosts} hosts at once` : "")
      + (run.pause_seconds ? ` · ${run.pause_seconds} s between` : ""));
    stateBadge.dataset.runState = run.state;
    stateBadge.textContent = run.cancel_requested && run.state === "running" ? "Cancelling…" : RUN_TEXT[run.state] || run.state;
    stepsList.replaceChildren(...run.steps.map((s) => el("li", { class: "step", dataset: { step: s.state } },
      el("span", { class: "step-state", text: STEP_TEXT[s.state] || s.state }),
      el("span", { class: "step-host", text: s.host }),
      el("span", { class: "step-name", text: s.service }),
      el("span", { class: "step-note muted", text: stepNote(s) }))));
    message.textContent = run.state === "running" ? "" : run.message || "";
    cancelBtn.hidden = run.state !== "running";
    cancelBtn.disabled = run.cancel_requested;
    paintPick();
  }

  async function follow(id) {
    clearTimeout(timer);
    try {
      const run = await api("GET", `/api/actions/${id}`);
      paintRun(run);
      if (run.state === "running") timer = setTimeout(() => follow(id), POLL_MS);
    } catch (err) {
      message.textContent = `Could not read the progress: ${err.message}`;
      timer = setTimeout(() => follow(id), POLL_MS * 3);
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const items = picked();
    if (!items.length || !(await confirmRun(items))) return;
    startBtn.disabled = true;
    try {
      const run = await api("POST", "/api/actions", { action: action.value, services: items.map((b) => b.value), ...batching() });
      paintRun(run);
      follow(run.id);
    } catch (err) {
      progress.hidden = false;
      stepsList.replaceChildren();
      stateBadge.dataset.runState = "failed";
      stateBadge.textContent = `Refused: ${err.code}`;
      cancelBtn.hidden = true;
      message.textContent = [err.message, err.hint && `Fix: ${err.hint}`].filter(Boolean).join(" ");
      paintPick();
    }
  });

  cancelBtn.addEventListener("click", async () => {
    if (!current) return;
    const left = current.steps.filter((st) => st.state === "pending").length;
    const ok = await askConfirm({
      title: `Cancel rolling ${current.action} #${current.id}?`,
      text: `The step running now finishes; the ${left} step${left === 1 ? "" : "s"} not begun yet will be skipped.`,
      ok: "Cancel the run",
      dismiss: "Keep running",
    });
    if (!ok || !current || current.state !== "running") return;
    cancelBtn.disabled = true;
    try {
      paintRun(await api("DELETE", `/api/actions/${current.id}`));
    } catch (err) {
      message.textContent = `Cancel failed: ${err.message}`;
    }
  });

  box.addEventListener("toggle", () => { if (box.open) { buildPick(); readUnable(); } });
  action.addEventListener("change", paintPick);
  form.addEventListener("change", (ev) => { if (ev.target.name === "services") paintPick(); });
  // The pick is built when the panel opens (its toggle event comes a moment later than a
  // quick choice can): build it first, so a pick by tag or host never finds it empty.
  if (byTag) byTag.addEventListener("change", () => { buildPick(); if (byTag.value) pickWhere((b) => b.dataset.tags.split(" ").includes(byTag.value)); });
  byHost.addEventListener("change", () => { buildPick(); if (byHost.value) pickWhere((b) => b.dataset.host === byHost.value); });
  document.getElementById("rolling-clear").addEventListener("click", () => {
    if (byTag) byTag.value = "";
    byHost.value = "";
    pickWhere(() => false);
  });

  paintPick();
  // A run still going (started here or elsewhere): open the panel and follow it.
  api("GET", "/api/actions").then((data) => {
    const running = (data.actions || []).find((r) => r.state === "running");
    if (running) { box.open = true; buildPick(); paintRun(running); follow(running.id); }
  }).catch(() => {});
}
