// `blockgraph fixture export|import`: a seq range of a log as self-contained JSON lines.
import type { Command } from 'commander';
import { writeOutputFile } from '../out-file.js';
import { intArg, outArg, seqArg } from '../args.js';
import { DEFAULT_INPUT_TIMEOUT_S, MAX_FIXTURE_BYTES, readInputFile } from '../input-file.js';
import { DEFAULT_DB, printJson, withReadLog } from '../context.js';

export function readFixtureFile(file: string, timeoutS?: number): Promise<string> {
  return readInputFile(file, { maxBytes: MAX_FIXTURE_BYTES, timeoutS, what: 'fixture' });
}

export function registerFixture(program: Command): void {
  const fx = program.command('fixture')
    .description('fixtures: a seq range of a log as self-contained JSON lines (header with the state before the range, then the records)');

  fx.command('export')
    .description('write records FROM..TO as a fixture (stdout unless --out)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--from <seq>', 'first seq (default 1)', seqArg('--from'))
    .option('--to <seq>', 'last seq (default: the head)', seqArg('--to'))
    .option('--out <file>', 'write the fixture here instead of stdout', outArg())
    .option('--description <text>', 'free text stored in the header')
    .addHelpText('after', `
Examples:
  $ blockgraph fixture export --from 12 --to 40 --out reopen.jsonl
  $ blockgraph fixture export | head -1          the header: the state before the range`)
    .action(async (o) => {
      const from: number | undefined = o.from;
      const to: number | undefined = o.to;
      const { exportFixture, printFixture } = await import('../../replay/fixture.js');
      const text = await withReadLog(o.db, async (log) => printFixture(await exportFixture(log, { from, to, description: o.description })));
      if (o.out) writeOutputFile(o.out, text);
      else process.stdout.write(text);
    });

  fx.command('import')
    .description('check a fixture (hash chain, order, replayed state hashes) and append it to a fresh store; a bad fixture writes nothing')
    .argument('<file>')
    .option('--db <dir>', 'LevelDB directory (must be empty or new), or a fleet host with no records (nats://HOST:PORT/FLEET/HOST)', DEFAULT_DB)
    .option('--json', 'JSON report')
    .option('--timeout <seconds>', `seconds to wait for a writer when FILE is a pipe nobody writes to yet (default ${DEFAULT_INPUT_TIMEOUT_S}; a pipe with a writer is read to its end)`, intArg('--timeout', 0, 86400))
    .addHelpText('after', `
Example:
  $ blockgraph fixture import reopen.jsonl --db /tmp/fresh.db`)
    .action(async (file: string, o) => {
      const [{ checkFixture, importFixture, parseFixture }, { openClassic }, { isNatsUrl }] = await Promise.all([
        import('../../replay/fixture.js'), import('../../store/index.js'), import('../../store/jetstream/url.js')]);
      // Parsed and checked before the store is even opened: a bad file never creates one.
      const f = parseFixture(await readFixtureFile(file, o.timeout), file);
      checkFixture(f, file);
      // a fleet host (nats://…) as every --db takes one; importFixture refuses a non-empty store
      const log = isNatsUrl(o.db) ? await (await import('../../store/jetstream/location.js')).openStoreAt(o.db) : await openClassic(o.db);
      try {
        const r = await importFixture(log, f, file);
        if (o.json) printJson(r);
        else {
          console.log(`imported ${r.records} records (fixture seq ${r.from}..${r.to}) into ${o.db}: store seq = fixture seq ${r.offset >= 0 ? '+' : '-'} ${Math.abs(r.offset)}`
            + `${r.baseRecords ? `, after a ${r.baseRecords}-record base transaction` : ''}`);
          console.log(`state hashes checked: ${r.checked}; head ${r.head}; state ${r.stateHash.slice(0, 16)}`);
        }
      } finally {
        await log.close();
      }
    });
}
