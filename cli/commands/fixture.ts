// `blockgraph fixture export|import`: a seq range of a log as self-contained JSON lines.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { checkFixture, exportFixture, importFixture, parseFixture, printFixture } from '../../replay/fixture.js';
import { openClassic } from '../../store/index.js';
import { DEFAULT_DB, printJson, withReadLog } from '../context.js';

function seqOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new BlockgraphError('BG_BAD_INPUT', `--${name} must be a seq number, got '${v}'`);
  return Number(v);
}

export function readFixtureFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new BlockgraphError('BG_BAD_INPUT', `cannot read ${file}`, { file });
  }
}

export function registerFixture(program: Command): void {
  const fx = program.command('fixture')
    .description('fixtures: a seq range of a log as self-contained JSON lines (header with the state before the range, then the records)');

  fx.command('export')
    .description('write records FROM..TO as a fixture (stdout unless --out)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--from <seq>', 'first seq (default 1)')
    .option('--to <seq>', 'last seq (default: the head)')
    .option('--out <file>', 'write the fixture here instead of stdout')
    .option('--description <text>', 'free text stored in the header')
    .action(async (o) => {
      const from = seqOption(o.from, 'from');
      const to = seqOption(o.to, 'to');
      const text = await withReadLog(o.db, async (log) => printFixture(await exportFixture(log, { from, to, description: o.description })));
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
    });

  fx.command('import')
    .description('check a fixture (hash chain, order, replayed state hashes) and append it to a fresh store; a bad fixture writes nothing')
    .argument('<file>')
    .option('--db <dir>', 'LevelDB directory (must be empty or new)', DEFAULT_DB)
    .option('--json', 'JSON report')
    .action(async (file: string, o) => {
      // Parsed and checked before the store is even opened: a bad file never creates one.
      const f = parseFixture(readFixtureFile(file), file);
      checkFixture(f, file);
      const log = await openClassic(o.db);
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
