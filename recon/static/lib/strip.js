// History at a glance: a strip of the last hours drawn as inline SVG from GET
// /api/history/strips (one letter per bucket: recon/monitor/strips.py), with the availability
// over 24 h, 7 d and 30 d. Every state has a colour AND a pattern (hatching for failed, dots
// for crash-looping, cross-hatching for unreachable, a thin line for no data), and each strip
// says in words what it shows (role="img" with an aria-label, and a title on hover).
import { fmtSpan } from "./recon.js";

const NS = "http://www.w3.org/2000/svg";
export const STATES = { // code: [word, drawn, pattern]; each code's colour is .sc-<code> in css/fleet.css
  u: ["unreachable", true, "cross"],
  l: ["crash-looping", true, "dots"],
  f: ["failed", true, "hatch"],
  d: ["degraded", true, "hatch"],
  s: ["stopped", true, ""],
  c: ["changing", true, ""],
  i: ["idle by design", true, ""],
  r: ["running", true, ""],
  "-": ["no data", false, ""],
};
const HOST_WORDS = { r: "reachable" };

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// The patterns, once per page, in a hidden SVG every strip refers to.
function ensurePatterns() {
  if (document.getElementById("strip-patterns")) return;
  const defs = svg("defs", {});
  const add = (id, draw) => {
    const p = svg("pattern", { id, width: 4, height: 4, patternUnits: "userSpaceOnUse" });
    for (const [tag, attrs] of draw) p.append(svg(tag, attrs));
    defs.append(p);
  };
  const ink = { class: "strip-ink", "stroke-width": 1.2 };
  add("strip-hatch", [["path", { d: "M-1,1 l2,-2 M0,4 l4,-4 M3,5 l2,-2", ...ink }]]);
  add("strip-cross", [["path", { d: "M0,0 l4,4 M4,0 l-4,4", ...ink }]]);
  add("strip-dots", [["circle", { cx: 2, cy: 2, r: 0.9, class: "strip-dot" }]]);
  const box = svg("svg", { id: "strip-patterns", width: 0, height: 0, "aria-hidden": "true", focusable: "false" });
  box.style.position = "absolute";
  box.append(defs);
  document.body.append(box);
}

// "running 23 h 30 min, failed 30 min": how long each state lasted, longest first.
export function stripWords(strip, bucketSeconds, host = false) {
  const time = new Map();
  for (const c of strip) time.set(c, (time.get(c) || 0) + bucketSeconds);
  return [...time.entries()].sort((a, b) => b[1] - a[1])
    .map(([c, s]) => `${(host && HOST_WORDS[c]) || STATES[c][0]} ${fmtSpan(s)}`).join(", ");
}

export function pct(x) {
  if (x == null) return "no data";
  const p = x * 100;
  return `${p >= 99.95 && p < 100 ? "99.9" : p.toFixed(p === 100 ? 0 : 1)}%`;
}

export function availabilityText(a) {
  return `available ${pct(a["24h"])} (24 h), ${pct(a["7d"])} (7 d), ${pct(a["30d"])} (30 d)`;
}

// An <svg> of one strip. info: {strip, availability}; hours: its span; label: what it is of.
export function drawStrip(info, { hours, bucketSeconds, label, big = false, host = false }) {
  ensurePatterns();
  const n = info.strip.length;
  const height = big ? 22 : 8;
  const words = `${label}, last ${hours} h: ${stripWords(info.strip, bucketSeconds, host)}; ${availabilityText(info.availability)}`;
  const node = svg("svg", {
    class: big ? "strip strip-big" : "strip", viewBox: `0 0 ${n} ${height}`, preserveAspectRatio: "none",
    role: "img", "aria-label": words, "data-strip-codes": info.strip,
  });
  const title = svg("title", {});
  title.textContent = words;
  node.append(title);
  node.append(svg("rect", { x: 0, y: height / 2 - 0.5, width: n, height: 1, class: "strip-base" }));
  for (let i = 0; i < n;) {
    const c = info.strip[i];
    let j = i + 1;
    while (j < n && info.strip[j] === c) j += 1;
    const [, fill, pattern] = STATES[c] || STATES["-"];
    if (fill) {
      const rect = { x: i, y: 0, width: j - i, height, "data-code": c };
      node.append(svg("rect", { ...rect, class: `sc-${c}` })); // its colour: css/fleet.css
      if (pattern) node.append(svg("rect", { ...rect, fill: `url(#strip-${pattern})` }));
    }
    i = j;
  }
  return node;
}

// A legend: each state's swatch (colour and pattern) and word.
export function legend(codes) {
  const list = document.createElement("ul");
  list.className = "strip-legend";
  for (const c of codes) {
    const item = document.createElement("li");
    item.append(drawStrip({ strip: c.repeat(4), availability: {} }, { hours: 0, bucketSeconds: 0, label: "" }));
    item.firstChild.removeAttribute("role");
    item.firstChild.setAttribute("aria-hidden", "true");
    item.append(STATES[c][0]);
    list.append(item);
  }
  return list;
}
