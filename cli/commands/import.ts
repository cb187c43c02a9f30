// `blockgraph import FILE`: a real QEMU session (oracle transcript or qmp-shell -l log) run
// through the model into the store, each step checked against QEMU's answer.
import type { Command } from 'commander';
import type { ImportFormat } from '../../oracle/import.js';
import { choiceArg, intArg, procArg } from '../args.js';
import { DEFAULT_INPUT_TIMEOUT_S, MAX_TRANSCRIPT_BYTES, readInputFile } from '../input-file.js';
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
    .option('--timeout <seconds>', `seconds to wait for a writer when FILE is a pipe nobody writes to yet (default ${DEFAULT_INPUT_TIMEOUT_S}; a pipe with a writer is read to its end)`, intArg('--timeout', 0, 86400))
    .addHelpText('after', `
Examples:
  $ blockgraph import session.log --format qmp-shell --image-dir /var/lib/images
  $ blockgraph import transcript.json --json`)
    .action(async (file: string, o) => {
      const text = await readInputFile(file, { maxBytes: MAX_TRANSCRIPT_BYTES, timeoutS: o.timeout, what: 'transcript or qmp-shell log' });
      const { importQmpLog, parseImport } = await import('../../oracle/import.js');
      // parsed before the store is opened: a bad file neither creates nor touches a store
      const parsed = parseImport(text, { format: o.format as ImportFormat | undefined, source: file });
      const r = await withLog(o.db, (log) => importQmpLog(log, parsed, {
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
