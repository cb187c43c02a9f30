import type { Command } from 'commander';
import { DEFAULT_DB, EXIT, printJson, withReadLog } from '../context.js';
import { progress } from '../progress.js';

export function registerReplay(program: Command): void {
  program.command('replay')
    .description('rebuild the state from the log; --verify recomputes every recorded state hash')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--verify', 'compare recorded state hashes, name the first diverging seq')
    .option('--json', 'JSON report')
    .addHelpText('after', `
Examples:
  $ blockgraph replay --db ./blockgraph.db
  $ blockgraph replay --verify --json`)
    .action(async (o) => {
      const [{ stateHash }, { replay, verifyReplay }] = await Promise.all([import('../../graph/hash.js'), import('../../replay/replay.js')]);
      const code = await withReadLog(o.db, async (log) => {
        const bar = progress(o.verify ? 'verify' : 'replay', !o.json);
        const t0 = performance.now();
        if (o.verify) {
          const r = await verifyReplay(log, bar);
          const ms = performance.now() - t0;
          if (o.json) printJson({ ...r, ms });
          else console.log(r.ok ? `ok: ${r.checked} state hashes match over ${r.head} records (${ms.toFixed(0)} ms)` : `DIVERGED at seq ${r.firstDiverging}: recorded ${r.expected}, replayed ${r.actual}`);
          return r.ok ? EXIT.ok : EXIT.failed;
        }
        const f = await replay(log, { fromScratch: true, onProgress: bar });
        const ms = performance.now() - t0;
        const out = { seq: f.seq, stateHash: stateHash(f.state), ms, eventsPerSec: Math.round(f.seq / (ms / 1000)) };
        if (o.json) printJson(out);
        else console.log(`replayed ${out.seq} records in ${ms.toFixed(0)} ms; state hash ${out.stateHash}`);
        return EXIT.ok;
      });
      process.exitCode = code;
    });
}
