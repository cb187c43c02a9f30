// `blockgraph fuzz --against qsd`: the live differential fuzzer (oracle/fuzz).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { fuzz, formatProgress, formatReport, loadKnown } from '../../oracle/fuzz/index.js';
import { qsdAvailable } from '../../oracle/qsd.js';
import { vmAvailable, vmUnavailableReason } from '../../oracle/qemu-vm.js';
import { requireQemuBinaries, requireQemuVm } from '../../oracle/qemu-bins.js';
import { outArg, qemuArg } from '../args.js';
import { cleanupOnSignals, sweepAtStart } from '../owned-cleanup.js';
import { imageRoot } from '../../oracle/image-root.js';
import { EXIT, printJson } from '../context.js';

const int = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new BlockgraphError('BG_BAD_INPUT', `--${name} must be a non-negative integer, got '${v}'`);
  return n;
};

/**
 * Cases run at once, each on its own daemons (two QEMU processes): the launches are made in one
 * synchronous loop, so `--parallel 999999999` never yielded (no SIGTERM handled, memory without
 * bound) before a single case ran. 256 is far past what a host runs usefully.
 */
export const MAX_PARALLEL = 256;
const parallelOf = (v: string): number => {
  const n = int('parallel', v);
  if (n > MAX_PARALLEL) throw new BlockgraphError('BG_BAD_INPUT', `--parallel ${n}: at most ${MAX_PARALLEL} cases at once (each starts its own daemons)`);
  return n;
};

export function registerFuzz(program: Command): void {
  program.command('fuzz')
    .description('differential fuzzing: command sequences generated over the live graph, run on qemu-storage-daemon and on the model; disagreements shrunk and saved')
    .requiredOption('--against <peer>', 'the reference implementation: "qsd" (qemu-storage-daemon) or "vm" (qemu-system-x86_64 with guest devices)')
    .option('--seed <n>', 'seed (the run is deterministic from it)', '1')
    .option('--commands <n>', 'stop after this many commands', '1000')
    .option('--case-length <n>', 'commands per case (fresh daemons per case)', '25')
    .option('--out <dir>', 'save minimal transcripts of new disagreements here', outArg())
    .option('--save-cases', "with --out: every case's daemon transcript in OUT/cases (for scripts/fuzz-coverage.ts)")
    .option('--no-shrink', 'do not shrink (faster; nothing is saved)')
    .option('--shrink-budget <n>', 'at most this many runs to shrink one finding', '60')
    .option('--all', 'report findings already in oracle/fuzz/known-disagreements.json as new ones too')
    .option('--time-limit <s>', 'stop after this many seconds: the case in flight ends, a shrink under way stops where it is, and the report covers what ran')
    .option('--parallel <n>', 'cases run at once (the report is the same at any value)', '2')
    .option('--progress-every <n>', 'a progress line on stderr every N commands', '1000')
    .option('--verbose', 'one line per case on stderr')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress on stderr')
    .option('--machine <type>', 'with --against vm: the fuzz machine, q35 (default) or pc (i440fx: disks on pci.0, ACPI hotplug)')
    .option('--qemu <version>', "which QEMU (qemu-storage-daemon, or qemu-system-x86_64 with --against vm): 7.2 (the system's, default) or 10.0 (scripts/fetch-qemu-10.sh); the model runs under that version's rules", qemuArg())
    .action(async (o) => {
      if (o.against !== 'qsd' && o.against !== 'vm') throw new BlockgraphError('BG_BAD_INPUT', `--against must be 'qsd' or 'vm', got '${o.against}'`);
      if (o.machine !== undefined && (o.against !== 'vm' || (o.machine !== 'q35' && o.machine !== 'pc'))) throw new BlockgraphError('BG_BAD_INPUT', `--machine takes q35 or pc, with --against vm (got '${o.machine}')`);
      if (o.against === 'vm' && !vmAvailable(o.qemu ?? '7.2')) throw new BlockgraphError('BG_UNSUPPORTED', vmUnavailableReason(o.qemu ?? '7.2'));
      const bins = o.qemu === '10.0' ? (o.against === 'vm' ? requireQemuVm('10.0') : requireQemuBinaries('10.0')) : undefined;
      if (o.against === 'qsd' && !bins && !qsdAvailable()) throw new BlockgraphError('BG_UNSUPPORTED', 'qemu-storage-daemon is not installed (Debian: apt-get install -y qemu-system-common qemu-utils)');
      if (o.saveCases && o.out === undefined) throw new BlockgraphError('BG_BAD_INPUT', '--save-cases needs --out');
      if (o.out !== undefined) {
        // checked before any daemon starts: a run must not fail (or die) at its first finding
        try {
          mkdirSync(o.out, { recursive: true });
          accessSync(o.out, constants.W_OK);
        } catch (e) {
          throw new BlockgraphError('BG_BAD_INPUT', `--out ${o.out} is not a writable directory: ${(e as Error).message}`);
        }
      }
      const known = o.all ? undefined : loadKnown();
      // directories of runs that died by SIGKILL or the OOM killer (their pid is in the name)
      sweepAtStart('fuzz', [imageRoot()]);
      // SIGINT/SIGTERM/SIGHUP end the run after the current case (its daemons closed), with the
      // report; a second signal ends it at once, QEMU children killed and case directories removed
      let stop = false;
      const uninstall = cleanupOnSignals('fuzz', () => { stop = true; process.stderr.write('fuzz: stopping after this case\n'); });
      // the wall-clock budget is the CLI's, like a signal: the fuzzer itself never reads the clock
      // to decide anything (its report is the same at any speed up to where it was stopped)
      const limit = o.timeLimit === undefined ? undefined : int('time-limit', o.timeLimit) * 1000;
      const startedAt = Date.now();
      const shouldStop = () => {
        if (!stop && limit !== undefined && Date.now() - startedAt >= limit) {
          stop = true;
          process.stderr.write(`fuzz: --time-limit ${limit / 1000} s reached, stopping after this case\n`);
        }
        return stop;
      };
      try {
        const target = int('commands', o.commands);
        const every = Math.max(1, int('progress-every', o.progressEvery));
        let nextProgress = every;
        const report = await fuzz({
          ...(bins ? { bins } : {}),
          seed: int('seed', o.seed), commands: target, caseLength: Math.max(1, int('case-length', o.caseLength)),
          parallel: Math.max(1, parallelOf(o.parallel)),
          shouldStop, target: o.against, ...(o.machine ? { machine: o.machine as 'q35' | 'pc' } : {}),
          ...(o.saveCases && o.out !== undefined ? { casesDir: join(o.out, 'cases') } : {}),
          out: o.out, shrink: o.shrink, shrinkBudget: int('shrink-budget', o.shrinkBudget), known,
          onCase: o.quiet ? undefined : (c) => {
            if (o.verbose) process.stderr.write(`case ${c.index} seed ${c.seed}: ${c.commands} commands (total ${c.total})${c.finding ? ` — ${c.finding.category} at ${c.finding.command}` : ''}\n`);
            if (c.total >= nextProgress) {
              nextProgress = (Math.floor(c.total / every) + 1) * every;
              process.stderr.write(`${formatProgress(c.report(), target)}\n`);
            }
          },
          onWarning: (line) => process.stderr.write(`fuzz: warning: ${line}\n`),
          onFinding: o.quiet ? undefined : (d) => process.stderr.write(`  ${d.known ? "known" : "NEW"}: [${d.finding.category}] ${d.finding.command}: ${d.finding.message.split('\n')[0]}${d.saved ? ` → ${d.saved}` : ''}\n`),
        });
        if (o.json) printJson(report);
        else console.log(formatReport(report));
        const unexplained = report.distinct.filter((d) => !d.known && d.finding.category !== 'harness');
        process.exitCode = unexplained.length ? EXIT.failed : EXIT.ok;
      } finally {
        uninstall();
      }
    });
}
