// Sums `blockgraph fuzz --json` reports of several runs and re-checks every distinct finding
// against the known list as it is now: known (routed to a cause), fixed (its saved minimal
// transcript agrees with the model now), or unexplained. Usage: fuzz-summary REPORT.json…
import { existsSync, readFileSync } from 'node:fs';
import { checkModel, loadKnown, matchKnown, type FuzzReport } from '../oracle/fuzz/index.js';
import { parseTranscript } from '../oracle/format.js';

const known = loadKnown();
let commands = 0; let cases = 0; let total = 0; let ms = 0; let exit70 = 0; let aborts = 0;
const rows: string[] = [];
const causes = new Set<string>();
let unexplained = 0; let fixedCount = 0;
for (const file of process.argv.slice(2)) {
  const r = JSON.parse(readFileSync(file, 'utf8')) as FuzzReport;
  commands += r.commands; cases += r.cases; total += r.disagreements; ms += r.elapsedMs; exit70 += r.exit70; aborts += r.qemuAborts;
  for (const d of r.distinct) {
    const k = matchKnown(d.finding, known);
    let status = k ? `known: ${k.cause.slice(0, 90)}` : '';
    if (!k && d.saved && existsSync(d.saved) && !d.saved.endsWith('.scenario.json')) {
      const f = await checkModel(parseTranscript(readFileSync(d.saved, 'utf8'), d.saved));
      if (!f) { status = 'fixed (agrees now)'; fixedCount += d.count; }
    }
    // known when the run met it, entry gone since: known:refresh removes the entries of causes fixed
    if (!status && d.known && d.finding.category !== 'harness') { status = `fixed since (entry removed): ${d.known.slice(0, 70)}`; fixedCount += d.count; }
    if (!status) { status = 'UNEXPLAINED'; unexplained++; }
    if (k) causes.add(k.cause); else causes.add(`${status}: ${d.key}`);
    rows.push(`${file.split('/').pop()}  [${d.finding.category}] ${d.finding.command} ×${d.count} seed ${d.seed}: ${status}`);
  }
}
console.log(rows.join('\n'));
console.log(`\n${commands} commands, ${cases} cases, ${Math.round(ms / 1000)} s; disagreements ${total} (${Math.round((total * 1e6) / commands) / 1000} per 1,000); of them on causes fixed since: ${fixedCount} (${Math.round(((total - fixedCount) * 1e6) / commands) / 1000} per 1,000 left); distinct causes ${causes.size}; unexplained ${unexplained}; exit 70 ${exit70}; QEMU aborts ${aborts}`);
