// A recording's output as searchable text: the "o" events of an asciicast v2 text, escape
// sequences and carriage returns taken out, each event's place in the text kept with its
// time, so a hit maps back to the moment its last character was shown. The player itself
// cannot search; the replay page seeks it to each hit's time.

// CSI, OSC (ended by BEL or ST), DCS/PM/APC strings, charset selection, two-byte escapes.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[P^_][^\x1b]*\x1b\\|[()*+][0-9A-Za-z]|[@-Z\\-_=>78])/g;

export function indexCast(text) {
  let header = null;
  const parts = [];
  const starts = [];
  const times = [];
  let pos = 0;
  let duration = 0;
  for (const line of text.split("\n")) {
    if (!line) continue;
    let value;
    try { value = JSON.parse(line); } catch { continue; }
    if (header === null && !Array.isArray(value)) { header = value; continue; }
    if (!Array.isArray(value)) continue;
    duration = value[0];
    if (value[1] !== "o") continue;
    const plain = String(value[2]).replace(ESCAPES, "").replace(/\r/g, "");
    if (!plain) continue;
    starts.push(pos);
    times.push(value[0]);
    parts.push(plain);
    pos += plain.length;
  }
  return { header: header || {}, plain: parts.join(""), starts, times, duration };
}

// The time of the event whose text holds position `pos` (binary search over the starts).
export function timeAt(index, pos) {
  let lo = 0;
  let hi = index.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (index.starts[mid] <= pos) lo = mid; else hi = mid - 1;
  }
  return index.times[lo] ?? 0;
}

// Every occurrence of `query` (case-insensitive, as typed: no pattern syntax), up to `max`,
// with its time and some text around it.
export function findAll(index, query, max = 500) {
  const hits = [];
  if (!query) return hits;
  const re = new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "giu");
  const text = index.plain;
  let m;
  while ((m = re.exec(text)) !== null && hits.length < max) {
    const at = m.index;
    const end = at + m[0].length;
    hits.push({
      at,
      time: timeAt(index, end - 1),
      before: text.slice(Math.max(0, at - 40), at).replace(/\n/g, " ⏎ "),
      match: m[0],
      after: text.slice(end, end + 40).replace(/\n/g, " ⏎ "),
    });
    if (m[0].length === 0) re.lastIndex += 1;
  }
  return hits;
}

export function fmtTime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
