import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { verifyStore, repairStore, type StoreRepairReport, type StoreVerifyReport } from '../../store/index.js';
import { DEFAULT_DB, EXIT, printJson } from '../context.js';

function verifyText(r: StoreVerifyReport): string {
  if (r.ok) return `ok: ${r.head} records verified${r.snapshots ? `, ${r.snapshots.checked} snapshot(s)` : ''}`;
  const lines: string[] = [];
  if (r.storage) lines.push(`damaged: ${r.storage}`);
  else if (r.firstBad !== undefined) lines.push(`damaged at seq ${r.firstBad}: ${r.reason}`);
  else lines.push(`damaged: ${r.reason}`);
  if (!r.storage) lines.push(`verified: records 1..${r.head}`);
  if (r.missingAcknowledged > 0) lines.push(`acknowledged records not in the verified log: ${r.missingAcknowledged} (the anchor says seq ${typeof r.anchor === 'object' ? r.anchor.seq : '?'} was acknowledged)`);
  for (const d of r.snapshots?.damaged ?? []) lines.push(`snapshot at seq ${d.seq} is damaged: ${d.reason}`);
  lines.push('run `blockgraph repair --dry-run` to see what repair would do');
  return lines.join('\n');
}

function repairText(r: StoreRepairReport): string {
  const would = r.dryRun ? 'would ' : '';
  const lines: string[] = [];
  if (r.dryRun) lines.push('dry run: nothing was changed');
  if (r.levelDbRepair) lines.push(`LevelDB could not read the store (${r.levelDbRepair}): ${would}${r.dryRun ? 'run' : 'ran'} LevelDB's repair`);
  if (r.firstBad !== undefined) lines.push(`first damage at seq ${r.firstBad}: ${r.reason}`);
  lines.push(`${r.dryRun ? 'would keep' : 'kept'} records 1..${r.head}`);
  if (r.quarantined > 0) {
    lines.push(`${r.dryRun ? 'would move' : 'moved'} ${r.quarantined} entr${r.quarantined === 1 ? 'y' : 'ies'} after the break to ${r.quarantineFile}: ${r.verifyOnTheirOwn} verify on their own, ${r.chainIntact} also link to the record before`);
  } else lines.push('no record after the break');
  if (r.snapshotsDropped) lines.push(`${would}drop ${r.snapshotsDropped} snapshot(s) (damaged or past the kept head)`);
  if (r.anchor !== undefined) {
    lines.push(r.acknowledgedMissing === 0
      ? `all acknowledged records (up to seq ${r.anchor}) are in the log`
      : `acknowledged records (up to seq ${r.anchor}) not in the log: ${r.acknowledgedMissing}; in the quarantine file: ${r.acknowledgedInQuarantine}; destroyed by the damage: ${r.acknowledgedLost}`);
  }
  if (r.anchorProblem) lines.push(`anchor: ${r.anchorProblem}`);
  return lines.join('\n');
}

export function registerStoreCommands(program: Command): void {
  program.command('verify')
    .description('check the store without changing it: LevelDB files, contiguity, CRC of every record, hash chain, the anchor of the last acknowledged record, snapshots')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--json', 'JSON report')
    .addHelpText('after', `
Example:
  $ blockgraph verify --db ./blockgraph.db`)
    .action(async (o) => {
      const r = await verifyStore(o.db);
      if (o.json) printJson(r);
      else console.log(verifyText(r));
      process.exitCode = r.ok ? EXIT.ok : EXIT.corrupt;
    });
  program.command('repair')
    .description('keep the verified prefix, move every record after the break to a quarantine file (LevelDB repair first where its files are damaged); explicit, never automatic')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--dry-run', 'report what repair would do; change nothing')
    .option('--json', 'JSON report')
    .addHelpText('after', `
Example:
  $ blockgraph verify --db ./blockgraph.db || blockgraph repair --db ./blockgraph.db`)
    .action(async (o) => {
      if (typeof o.db !== 'string' || !o.db) throw new BlockgraphError('BG_BAD_INPUT', '--db: a directory');
      const r = await repairStore(o.db, { dryRun: !!o.dryRun });
      if (o.json) printJson(r);
      else console.log(repairText(r));
    });
}
