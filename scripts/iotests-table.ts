// Prints the per-iotest agreement table of the port (markdown) and, with --disagreements, every
// disagreeing step as JSON (the raw material for oracle/fuzz/known-disagreements.json).
// `--qemu 10.0`: the port as recorded on qemu-storage-daemon 10.0.2 (oracle/transcripts/qemu-10.0/iotests).
import { IOTESTS_10_0_DIR, IOTESTS_DIR, iotestTable, scoreIotests } from '../oracle/fuzz/iotests.js';

const q = process.argv.indexOf('--qemu');
const { rows, disagreements } = await scoreIotests(q >= 0 && process.argv[q + 1] === '10.0' ? IOTESTS_10_0_DIR : IOTESTS_DIR);
if (process.argv.includes('--disagreements')) {
  console.log(JSON.stringify(disagreements, null, 1));
} else {
  const pct = (n: number, d: number) => `${d ? (Math.round((n / d) * 1000) / 10).toFixed(1) : '100.0'}%`;
  console.log('| iotest | transcripts | steps | outcome | error text | graph |\n|---|---|---|---|---|---|');
  const tot = { transcripts: 0, steps: 0, outcome: 0, errorText: 0, graph: 0 };
  for (const t of iotestTable(rows)) {
    console.log(`| ${t.test} | ${t.transcripts} | ${t.steps} | ${pct(t.outcome, t.steps)} | ${pct(t.errorText, t.steps)} | ${pct(t.graph, t.steps)} |`);
    tot.transcripts += t.transcripts; tot.steps += t.steps; tot.outcome += t.outcome; tot.errorText += t.errorText; tot.graph += t.graph;
  }
  console.log(`| **total** | ${tot.transcripts} | ${tot.steps} | ${pct(tot.outcome, tot.steps)} | ${pct(tot.errorText, tot.steps)} | ${pct(tot.graph, tot.steps)} |`);
  const crashed = rows.filter((r) => r.crashed).map((r) => r.name);
  if (crashed.length) console.log(`\nmodel threw on: ${crashed.join(', ')}`);
}
