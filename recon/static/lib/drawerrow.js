// The logs drawer covers the row it shows, so it carries that row's state, copies of its
// action buttons (disabled, and saying why, as the row's are) and how the last action went.
import { el, setText } from "./recon.js";

// drawer: the LogsDrawer; panels: slug -> article.
export function createDrawerRow(drawer, panels) {
  const buttons = document.getElementById("logs-actions");
  const feedback = document.getElementById("logs-feedback");

  // The row under the open drawer, or null.
  function shown() {
    return drawer.service && !drawer.node.hidden ? panels.get(drawer.service.slug) || null : null;
  }

  function sync(article) {
    const badge = document.getElementById("logs-state");
    badge.dataset.state = article.dataset.state;
    setText(badge.querySelector("[data-state-text]"), article.querySelector("[data-state-text]").textContent);
    const rowButtons = [...article.querySelectorAll(".cell-actions button[data-action]")];
    if (buttons.dataset.slug !== article.dataset.slug) {
      buttons.dataset.slug = article.dataset.slug;
      feedback.hidden = true;
      buttons.replaceChildren(...rowButtons.map((b) => el("button", {
        type: "button", class: b.className.replace(" act", ""), dataset: { action: b.dataset.action },
        "aria-label": b.getAttribute("aria-label"), text: b.textContent,
      })));
    }
    for (const b of rowButtons) {
      const mirror = buttons.querySelector(`button[data-action="${b.dataset.action}"]`);
      if (mirror) { mirror.disabled = b.disabled; mirror.title = b.title; }
    }
  }

  // After the row changed: the drawer follows if it shows that row.
  function follow(article) {
    if (shown() === article) sync(article);
  }

  function open(article, trigger) {
    drawer.open({ slug: article.dataset.slug, name: article.dataset.name, unit: article.dataset.unit, host: article.dataset.host }, trigger);
    sync(article);
  }

  // An action's outcome, said in the drawer too when it covers the row.
  function say(article, ok, title) {
    if (shown() !== article) return;
    feedback.className = `drawer-feedback ${ok ? "fb-ok" : "fb-error"}`;
    feedback.textContent = title;
    feedback.hidden = false;
  }

  // act(article, action): what a click on one of the drawer's buttons does to its row.
  function onAction(act) {
    buttons.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      const article = shown();
      if (button && !button.disabled && article) act(article, button.dataset.action);
    });
  }

  return { follow, open, say, onAction };
}
