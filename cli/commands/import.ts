// `blockgraph import FILE`: a real QEMU session (oracle transcript or qmp-shell -l log) run
// through the model into the store, each step checked against QEMU's answer.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { ImportFormat } from '../../oracle/import.js';
import { choiceArg, procArg } from '../args.js';
import { DEFAULT_DB, EXIT, printJson, wallClock, withLog } from '../context.js';

export function registerImport(program: Command): void {
  program.command('import')
    .description("run a QEMU session (blockgraph-oracle/1 transcript or a qmp-shell -l log) through the model into the log, checking each step against QEMU's answer; disagreements are logged as import.disagreed (exit 1 if any)")
    .argument('<file>')
    .option('--format <format>', 'oracle | qmp-shell (default: detected)', choiceArg('--format', ['oracle', 'qmp-shell'] as const))
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'qmp-shell: which QEMU process of the store the session was', procArg('--proc'), 'A')
    .option('--image-dir <dir>', "qmp-shell: the daemon's working directory; images named by commands are learned from there with qemu-img info")
    .option('--json', 'JSON report')
    .addHelpText('after', `
Examples:
  $ blockgraph import session.log --format qmp-shell --image-dir /var/lib/images
  $ blockgraph import transcript.json --json`)
    .action(async (file: string, o) => {
      let text: string;
      try { text = readFileSync(file, 'utf8'); } catch (e) { throw new BlockgraphError('BG_BAD_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file }); }
      const { importQmpLog } = await import('../../oracle/import.js');
      const r = await withLog(o.db, (log) => importQmpLog(log, text, {
        format: o.format as ImportFormat | undefined, source: file, clock: wallClock, proc: o.proc, imageDir: o.imageDir,
      }));
      if (o.json) printJson(r);
      else {
        for (const s of r.steps) {
          const graph = s.graph === null ? '' : ` graph ${s.graph ? 'ok' : 'DIFFERS'}`;
          console.log(`${String(s.index).padStart(4)} ${s.proc} ${s.what.padEnd(28)} ${s.agreed ? 'agrees' : 'DISAGREES'}${s.agreed ? '' : ` (outcome ${s.outcome ? 'ok' : 'differs'}, error text ${s.errorText ? 'ok' : 'differs'}${graph})`}`);
          for (const d of s.diff) console.log(`       ${d.replace(/\n/g, '\n       ')}`);
        }
        console.log(`${r.source} (${r.format}): ${r.agreed}/${r.steps.length} steps agree${r.disagreed ? `; ${r.disagreed} logged as import.disagreed (seq ${r.records.join(', ')})` : ''}; head ${r.head}`);
      }
      process.exitCode = r.disagreed ? EXIT.failed : EXIT.ok;
    });
}
