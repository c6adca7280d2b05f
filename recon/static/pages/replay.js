// The replay page: fetches the cast once, hands it to the vendored asciinema-player (speed,
// seek by its bar and keys) and searches its output (lib/castsearch.js): Find lists every
// hit; a hit, Previous or Next pauses the player and seeks it to the moment it was shown.
import { el } from "../lib/recon.js";
import { findAll, fmtTime, indexCast } from "../lib/castsearch.js";

const root = document.getElementById("replay");
const box = document.getElementById("replay-player");
const status = document.getElementById("replay-status");
const errorBox = document.getElementById("replay-error");
const speedSelect = document.getElementById("replay-speed");
const query = document.getElementById("replay-query");
const hitList = document.getElementById("replay-hits");
const prev = document.getElementById("replay-prev");
const next = document.getElementById("replay-next");

let text = "";
let index = null;
let player = null;
let playing = false;
let hits = [];
let current = -1;

function fail(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  status.textContent = "";
}

// The player fits the page's width, but no wider than ~9 px a column: a narrow terminal's
// text would otherwise grow huge.
function sizeBox() {
  let cols = 80;
  try { cols = JSON.parse(text.slice(0, text.indexOf("\n"))).width || 80; } catch { /* 80 */ }
  box.style.maxWidth = `${Math.max(40, cols) * 9 + 24}px`;
}

function create(startAt, autoPlay) {
  const p = window.AsciinemaPlayer.create({ data: text }, box, {
    speed: Number(speedSelect.value), startAt, autoPlay, preload: true, fit: "width",
    controls: true,
  });
  p.addEventListener("playing", () => {
    playing = true;
    if (!performance.getEntriesByName("recon:replay-playing").length) {
      performance.mark("recon:replay-playing");
      document.documentElement.dataset.replayPlaying = "1";
    }
  });
  p.addEventListener("pause", () => { playing = false; });
  p.addEventListener("ended", () => { playing = false; });
  return p;
}

// Seek (paused) to a time; resolves when the player shows it. Used by the hits and the bench.
async function seekTo(seconds) {
  await player.pause();
  await player.seek(seconds);
}

async function show(i) {
  if (!hits.length) return;
  current = (i + hits.length) % hits.length;
  const hit = hits[current];
  for (const [n, item] of [...hitList.children].entries()) {
    item.classList.toggle("current", n === current);
    if (n === current) item.querySelector("button").setAttribute("aria-current", "true");
    else item.querySelector("button").removeAttribute("aria-current");
  }
  // A hair after the event, so the player has drawn it.
  await seekTo(hit.time + 0.001);
  status.textContent = `Hit ${current + 1} of ${hits.length}${hits.length >= 500 ? "+" : ""}` +
    ` at ${fmtTime(hit.time)}`;
}

function search(event) {
  event.preventDefault();
  if (!index) index = indexCast(text);
  hits = findAll(index, query.value);
  hitList.replaceChildren(...hits.map((hit, i) => el("li", {},
    el("button", { type: "button", class: "replay-hit", onclick: () => show(i) },
      el("span", { class: "replay-hit-time", text: fmtTime(hit.time) }),
      el("span", { class: "replay-hit-text" }, hit.before, el("mark", { text: hit.match }),
        hit.after)))));
  prev.disabled = next.disabled = hits.length === 0;
  current = -1;
  if (hits.length) show(0);
  else status.textContent = query.value ? `"${query.value}" was not shown in this session` : "";
}

async function start() {
  let resp;
  try {
    resp = await fetch(root.dataset.cast, { headers: { Accept: "application/x-asciicast" } });
  } catch (err) {
    fail(`The recording could not be loaded: ${err.message}`);
    return;
  }
  if (!resp.ok) {
    let message = `The recording could not be loaded (HTTP ${resp.status}).`;
    try { message = (await resp.json()).message || message; } catch { /* not JSON */ }
    fail(message);
    return;
  }
  text = await resp.text();
  sizeBox();
  player = create(0, true);
  status.textContent = "Playing. Space pauses; ← → seek 5 s; the bar seeks anywhere.";
  speedSelect.addEventListener("change", () => {
    const at = player.getCurrentTime();
    const was = playing;
    player.dispose();
    player = create(at, was);
  });
  document.getElementById("replay-search").addEventListener("submit", search);
  prev.addEventListener("click", () => show(current - 1));
  next.addEventListener("click", () => show(current + 1));
  // For tests and the bench: the player, a timed seek.
  window.reconReplay = { player: () => player, seekTo, hits: () => hits };
  document.documentElement.dataset.replayReady = "1";
}

start();
