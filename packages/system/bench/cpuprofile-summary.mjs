// Summarise V8 .cpuprofile files (from `node --cpu-prof`, one per thread): per file, the share of
// sampled time that was idle, and the top functions by self time and by total time (self plus
// callees, each function counted once per stack).
//
//   node bench/cpuprofile-summary.mjs DIR [--top N] [--match TEXT]
//
// --match keeps only the profiles that contain a function whose name includes TEXT (e.g.
// drainMmioRing for the device worker).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, match: { type: 'string' } },
});
const dir = positionals[0] ?? '.';
const TOP = Number(values.top);

const short = (url) => (url ? basename(url.replace(/^file:\/\//, '')) : '');

for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.cpuprofile'))
  .sort()) {
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const cf = n.callFrame;
    return `${cf.functionName || '(anon)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
  };
  if (values.match && !p.nodes.some((n) => n.callFrame.functionName.includes(values.match)))
    continue;
  // sample durations: timeDeltas[i] is the time before sample i
  const dt = p.timeDeltas;
  const selfT = new Map();
  const byFile = new Map();
  const totalT = new Map();
  let all = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = (dt[i + 1] ?? dt[i] ?? 0) / 1000; // ms
    all += d;
    let n = byId.get(p.samples[i]);
    const k = key(n);
    if (n.callFrame.functionName === '(idle)') idle += d;
    selfT.set(k, (selfT.get(k) ?? 0) + d);
    const file = n.callFrame.url
      ? n.callFrame.url.replace(/^file:\/\/.*\/packages\//, '').replace(/\/dist\/.*$/, '')
      : n.callFrame.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + d);
    const seen = new Set();
    for (; n !== undefined; n = byId.get(parent.get(n.id))) {
      const kk = key(n);
      if (seen.has(kk)) continue;
      seen.add(kk);
      totalT.set(kk, (totalT.get(kk) ?? 0) + d);
    }
  }
  const busy = all - idle;
  console.log(
    `\n== ${f}: ${all.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle (${((100 * busy) / all).toFixed(0)} %)`,
  );
  const pct = (x) => `${((100 * x) / busy).toFixed(1).padStart(5)} %`;
  console.log('  self time by package or file (share of non-idle):');
  for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    if (k === '(idle)') continue;
    console.log(`    ${pct(v)}  ${k}`);
  }
  console.log('  self time (share of non-idle):');
  for (const [k, v] of [...selfT].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    if (k.startsWith('(idle)')) continue;
    console.log(`    ${pct(v)}  ${k}`);
  }
  console.log('  total time:');
  for (const [k, v] of [...totalT].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    if (k.startsWith('(idle)') || k.startsWith('(root)')) continue;
    console.log(`    ${pct(v)}  ${k}`);
  }
}
