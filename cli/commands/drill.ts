// `blockgraph drill SCENARIO…`: crash-recovery drills (replay/drill.ts). Exit 0 when every crash
// point recovered correctly, 1 when any failed.
import { existsSync } from 'node:fs';
import { DEFAULT_INPUT_TIMEOUT_S, MAX_TRANSCRIPT_BYTES, readInputFile } from '../input-file.js';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { Scenario } from '../../oracle/format.js';
import type { DrillReport } from '../../replay/drill.js';
import { intArg, qemuArg } from '../args.js';
import { DEFAULT_DB, EXIT, printJson, table, withReadLog } from '../context.js';
import { progress } from '../progress.js';
import { ignoreBlockedSignals, onStopSignal, signalStatus, type StopSignal } from '../stop-signals.js';
import { parseNatsUrl } from '../../store/jetstream/url.js';

async function readScenario(file: string, timeoutS?: number): Promise<Scenario> {
  // a pipe is read once as a stream, a fifo nobody writes to refused (cli/input-file.ts)
  const text = await readInputFile(file, { maxBytes: MAX_TRANSCRIPT_BYTES, timeoutS, what: 'transcript or scenario' });
  const { parseScenario } = await import('../../oracle/format.js');
  return parseScenario(text, file);
}

const int = (name: string, min: number) => intArg(`--${name}`, min);

export function registerDrill(program: Command): void {
  const drill = program.command('drill')
    .description('kill a run of SCENARIO with SIGKILL at every crash point (or at random times) on a real LevelDB, recover, and check the state')
    .argument('<scenario...>', 'scenario or transcript files (blockgraph-oracle/1)')
    .option('--json', 'JSON report')
    // Bounds: the kill delays and the workload are made whole before the first child runs, so
    // `--random 999999999` ran the parent out of heap (V8 abort after 110 s); a workload is a
    // scenario, which holds at most 10 000 steps (oracle/format.ts MAX_STEPS).
    .option('--random <n>', 'N random kills over a long random workload instead of every crash point (at most 100000)', intArg('--random', 1, 100_000))
    .option('--seed <s>', 'seed of the random workload and kill times', int('seed', 0), 1)
    .option('--length <n>', 'random commands appended to the scenario in --random mode (at most 10000)', intArg('--length', 1, 10_000), 300)
    .option('--jobs <n>', 'children run at once (default: CPUs)', int('jobs', 1))
    .option('--every <n>', 'only every n-th crash point (a quick sample)', int('every', 1), 1)
    .option('--timeout <seconds>', `seconds to wait for a writer when a file is a pipe nobody writes to yet (default ${DEFAULT_INPUT_TIMEOUT_S})`, int('timeout', 0))
    .addHelpText('after', `
Examples:
  $ blockgraph drill node_modules/blockgraph/oracle/transcripts/job-commit-active.json --every 5
  $ blockgraph drill my-scenario.json --random 50 --seed 7 --json`)
    .option('--store <url>', 'run each child on a host of this fleet (nats://HOST:PORT/FLEET) instead of a LevelDB dir')
    .option('--intent-first', "(the default) the children's engines go intent first (as qmp serves; docs/drills.md \"Version 7\"), with a crash point between each command's synced intent and its record")
    .option('--no-intent-first', "the children's engines write each command's record first (qmp --no-intent-first): no intent crash points")
    .action(async (files: string[], o) => {
      if (o.store !== undefined && parseNatsUrl(o.store, { fleet: true }).host !== undefined) throw new BlockgraphError('BG_BAD_INPUT', '--store names the fleet only (nats://HOST:PORT/FLEET): each drill child gets a host of its own');
      const scenarios: Scenario[] = [];
      for (const f of files) scenarios.push(await readScenario(f, o.timeout));
      const { drillRandom, drillScenario } = await import('../../replay/drill.js');
      const reports: DrillReport[] = [];
      // SIGINT/SIGTERM/SIGHUP: the children are killed and their temp stores removed (the default
      // action left both behind), and what ran so far is reported as interrupted.
      const stop = new AbortController();
      let stoppedBy: StopSignal | undefined;
      const offSignals = onStopSignal((sig) => { stoppedBy = sig; stop.abort(); });
      const offBlocked = ignoreBlockedSignals();
      try {
        for (const s of scenarios) {
          if (stop.signal.aborted) break;
          const bar = progress(`drill ${s.name}`, !o.json);
          const opts = { jobs: o.jobs, every: o.every, onProgress: bar, signal: stop.signal, ...(o.store ? { store: o.store as string } : {}), ...(o.intentFirst === false ? { intentFirst: false } : {}) };
          reports.push(o.random !== undefined ? await drillRandom(s, { ...opts, kills: o.random, seed: o.seed, length: o.length }) : await drillScenario(s, opts));
        }
      } finally {
        offSignals();
        offBlocked();
      }
      const failed = reports.reduce((n, r) => n + r.failed, 0);
      if (o.json) printJson(reports.length === 1 ? reports[0] : reports);
      else {
        for (const r of reports) {
          const rows = r.rows.map((x) => [x.operation, String(x.points), String(x.passed), String(x.failed)]);
          rows.push(['total', String(r.points), String(r.passed), String(r.failed)]);
          console.log(`${r.scenario}: ${r.operations} operations, ${r.records} records, ${r.sigkills} SIGKILLs, ${(r.ms / 1000).toFixed(1)} s`);
          console.log(table(rows, [r.mode === 'random' ? 'interrupted operation' : 'operation', r.mode === 'random' ? 'kills' : 'crash points', 'passed', 'failed']));
          if (r.interrupted) console.log(`interrupted by ${stoppedBy}: ${r.points} of ${r.interrupted.planned} ${r.mode === 'random' ? 'kills' : 'crash points'} run`);
          for (const f of r.failures.slice(0, 20)) console.log(`FAIL ${f.label} (${f.kind}${f.afterSeq !== undefined ? ` after seq ${f.afterSeq}` : ''}${f.delayMs !== undefined ? ` at ${f.delayMs} ms` : ''}): ${f.failures.join('; ')}`);
          console.log('');
        }
      }
      if (stoppedBy) {
        // an interrupted drill has proven nothing about the points it did not run: the shell's
        // code for the signal, as before, and one line on stderr
        process.stderr.write(`blockgraph: drill interrupted by ${stoppedBy}${failed ? `; ${failed} point(s) failed before it` : ''}\n`);
        process.exitCode = signalStatus(stoppedBy);
        return;
      }
      process.exitCode = failed ? EXIT.failed : EXIT.ok;
    });
  registerDrillUpgrade(drill);
}

/**
 * `blockgraph drill upgrade --to 10.0 --db DIR`: every command of the log run again under the
 * target QEMU version's rules (replay/upgrade.ts). Exit 0 nothing would change, 1 differences
 * found, 2 bad input (a bad --to, a missing store).
 */
function registerDrillUpgrade(drill: Command): void {
  drill.command('upgrade')
    .description("pre-upgrade check: replay a log's commands under another QEMU version's rules and report every command whose outcome, error text or graph would change")
    .requiredOption('--to <version>', 'the QEMU version to upgrade to (7.2 or 10.0)', qemuArg('--to'))
    .option('--db <dir>', 'LevelDB directory (or nats://… fleet host)', DEFAULT_DB)
    .option('--json', 'JSON report')
    .addHelpText('after', `
Exit codes: 0 nothing would change, 1 differences found, 2 bad input.

Examples:
  $ blockgraph drill upgrade --to 10.0 --db ./blockgraph.db
  $ blockgraph drill upgrade --to 10.0 --db ./blockgraph.db --json`)
    .action(async (o) => {
      if (!o.db.startsWith('nats://') && !existsSync(o.db)) throw new BlockgraphError('BG_BAD_INPUT', `--db ${o.db}: no store there`);
      const { upgradeDrill, upgradeText } = await import('../../replay/upgrade.js');
      const r = await withReadLog(o.db, (log) => upgradeDrill(log.readChunks({}), o.to));
      if (o.json) printJson(r);
      else console.log(upgradeText(r));
      process.exitCode = r.differences.length ? EXIT.failed : EXIT.ok;
    });
}
