import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { Transcript } from '../../oracle/format.js';
import { transcriptsDir, vmTranscriptsDir } from '../../oracle/paths.js';
import { existsSync } from 'node:fs';
import type { QemuVersion } from '../../graph/version.js';
import { qemuArg } from '../args.js';
import { EXIT, printJson, table } from '../context.js';
import { progress } from '../progress.js';

/**
 * Every transcript of `dir` through the model, each under the rules of the QEMU version that
 * recorded it (its `qemu` member), or of `qemu` when given.
 */
export async function runConformance(dir: string, onProgress?: (d: number, t: number) => void, qemu?: QemuVersion) {
  const [{ compareSuites }, { parseTranscript, scenarioOf }, { runOnModel, transcriptVersion }] = await Promise.all([
    import('../../oracle/compare.js'), import('../../oracle/format.js'), import('../../oracle/run-model.js')]);
  let files: string[];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch (e) {
    throw new BlockgraphError('BG_BAD_INPUT', `cannot read the transcript directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!files.length) throw new BlockgraphError('BG_BAD_INPUT', `no transcripts (*.json) in ${dir}`);
  const pairs: { expected: Transcript; actual: Transcript }[] = [];
  for (const [i, f] of files.entries()) {
    const expected = parseTranscript(readFileSync(join(dir, f), 'utf8'), f);
    pairs.push({ expected, actual: await runOnModel(scenarioOf(expected), undefined, { qemuVersion: qemu ?? transcriptVersion(expected) }) });
    onProgress?.(i + 1, files.length);
  }
  return compareSuites(pairs);
}

export function registerConformance(program: Command): void {
  program.command('conformance')
    .description('run every oracle transcript through the model and score outcome, error text and graph per area')
    .argument('[dir]', 'transcripts (default: the recorded set shipped with blockgraph, of the --qemu version)')
    .option('--qemu <version>', "the QEMU version's rules and recorded set: 7.2 (default), 10.0 (oracle/transcripts/qemu-10.0), or all (each set, reported per version)", (v: string) => (v === 'all' ? v : qemuArg()(v)))
    .option('--json', 'JSON report')
    .addHelpText('after', `
Examples:
  $ blockgraph conformance                  the transcripts shipped with blockgraph (oracle/transcripts, recorded on 7.2)
  $ blockgraph conformance --qemu 10.0      the same scenarios recorded on qemu-storage-daemon 10.0.2, under 10.0's rules
  $ blockgraph conformance --qemu all       both sets, one table per version
  $ blockgraph conformance ./my-transcripts --json`)
    .action(async (dir: string | undefined, o) => {
      const versions: QemuVersion[] = o.qemu === 'all' ? ['7.2', '10.0'] : [o.qemu ?? '7.2'];
      if (o.qemu === 'all' && dir) throw new BlockgraphError('BG_BAD_INPUT', '--qemu all runs the shipped sets; give one version with a directory');
      const reports: Record<string, Awaited<ReturnType<typeof runConformance>>> = {};
      for (const v of versions) {
        // a directory given without --qemu keeps each transcript's own version
        reports[v] = await runConformance(dir ?? transcriptsDir(v), progress(`conformance ${v}`, !o.json), dir && !o.qemu ? undefined : v);
      }
      // the shipped sets: the vm target's transcripts (oracle/transcripts/vm, and
      // oracle/transcripts/qemu-10.0/vm for 10.0) are scored apart, each under its version's rules
      const vms: Partial<Record<QemuVersion, Awaited<ReturnType<typeof runConformance>>>> = {};
      for (const v of versions) {
        if (!dir && existsSync(vmTranscriptsDir(v))) vms[v] = await runConformance(vmTranscriptsDir(v), undefined, v);
      }
      const vm = vms['7.2'];
      const rowsOf = (c: Awaited<ReturnType<typeof runConformance>>) => {
        const rows = Object.entries(c.byArea).map(([a, x]) => [a, String(x.totals.steps), `${x.percent.outcome}%`, `${x.percent.errorText}%`, `${x.percent.graph}%`]);
        rows.push(['total', String(c.totals.steps), `${c.percent.outcome}%`, `${c.percent.errorText}%`, `${c.percent.graph}%`]);
        return rows;
      };
      if (o.json) {
        const one = versions.length === 1 ? reports[versions[0]!]! : reports;
        // `vm` stays the 7.2 vm set's report (as before 10.0's VM was recorded); `vm10` is 10.0's
        printJson({ ...one, ...(vm ? { vm } : {}), ...(vms['10.0'] ? { vm10: vms['10.0'] } : {}) });
      } else {
        for (const v of versions) {
          if (versions.length > 1) console.log(`QEMU ${v}`);
          console.log(table(rowsOf(reports[v]!), ['area', 'steps', 'outcome', 'error text', 'graph']));
        }
        for (const v of versions) {
          const r = vms[v];
          if (!r) continue;
          console.log(`\nvm target (qemu-system-x86_64 ${v} q35, ${v === '7.2' ? 'oracle/transcripts/vm' : 'oracle/transcripts/qemu-10.0/vm'}):`);
          console.log(table(rowsOf(r), ['area', 'steps', 'outcome', 'error text', 'graph']));
        }
      }
      process.exitCode = versions.every((v) => reports[v]!.percent.outcome === 100 && (vms[v]?.percent.outcome ?? 100) === 100) ? EXIT.ok : EXIT.failed;
    });
}
