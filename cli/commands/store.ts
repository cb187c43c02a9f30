import type { Command } from 'commander';
import { DEFAULT_DB, EXIT, printJson, withLog } from '../context.js';

export function registerStoreCommands(program: Command): void {
  program.command('verify')
    .description('check the log: contiguity, CRC of every record, hash chain')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--json', 'JSON report')
    .addHelpText('after', `
Example:
  $ blockgraph verify --db ./blockgraph.db`)
    .action(async (o) => {
      const r = await withLog(o.db, (log) => log.verify(), { verify: 'none' });
      if (o.json) printJson(r);
      else console.log(r.ok ? `ok: ${r.head} records verified` : `damaged at seq ${r.firstBad}: ${r.reason}`);
      process.exitCode = r.ok ? EXIT.ok : EXIT.corrupt;
    });
  program.command('repair')
    .description('truncate a damaged log to its last verified record (explicit, never automatic)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--json', 'JSON report')
    .addHelpText('after', `
Example:
  $ blockgraph verify --db ./blockgraph.db || blockgraph repair --db ./blockgraph.db`)
    .action(async (o) => {
      const r = await withLog(o.db, (log) => log.repair(), { verify: 'none' });
      if (o.json) printJson(r);
      else console.log(`dropped ${r.dropped} record(s); the log now ends at seq ${r.head}`);
    });
}
