// Re-records the transcripts named (paths under oracle/transcripts, or a file listing them with
// --from FILE) on the QEMU each was recorded on, two at a time, three tries each, and says which
// differ: the check a set gets before it lands, on the machine as it is now.
import { readFileSync } from 'node:fs';
import { findQemuBinaries } from '../oracle/qemu-bins.js';
import { rerecord } from '../specs/oracle/rerecord.js';

const argv = process.argv.slice(2);
const from = argv.indexOf('--from');
const files = from >= 0 ? readFileSync(argv[from + 1]!, 'utf8').split('\n').filter(Boolean) : argv;

let next = 0, bad = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const f = files[next++]!;
    const bins = findQemuBinaries(f.includes('qemu-10.0/') ? '10.0' : '7.2');
    // a file that is not a transcript, or a recording that fails, is that file's finding, not the run's end
    const r = bins ? await Promise.resolve().then(() => rerecord(readFileSync(f, 'utf8'), bins)).catch((e: Error) => ({ note: undefined, misses: `not re-recorded: ${e.message}` }))
      : { note: undefined, misses: 'its QEMU is not installed' };
    if (r.misses) { bad++; console.log(`DIFF ${f}: ${r.misses.replace(/\n/g, ' ')}`); } else console.log(`ok ${f}${r.note ? ` (${r.note})` : ''}`);
  }
}
await Promise.all([worker(), worker()]);
console.log(`${files.length - bad} of ${files.length} re-recorded the same`);
process.exitCode = bad ? 1 : 0;
