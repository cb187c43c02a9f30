import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { Transcript } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR, VM_TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { existsSync } from 'node:fs';
import { EXIT, printJson, table } from '../context.js';
import { progress } from '../progress.js';

export async function runConformance(dir: string, onProgress?: (d: number, t: number) => void) {
  const [{ compareSuites }, { parseTranscript, scenarioOf }, { runOnModel }] = await Promise.all([
    import('../../oracle/compare.js'), import('../../oracle/format.js'), import('../../oracle/run-model.js')]);
  let files: string[];
  try { files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch (e) {
    throw new BlockgraphError('BG_BAD_INPUT', `cannot read the transcript directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!files.length) throw new BlockgraphError('BG_BAD_INPUT', `no transcripts (*.json) in ${dir}`);
  const pairs: { expected: Transcript; actual: Transcript }[] = [];
  for (const [i, f] of files.entries()) {
    const expected = parseTranscript(readFileSync(join(dir, f), 'utf8'), f);
    pairs.push({ expected, actual: await runOnModel(scenarioOf(expected)) });
    onProgress?.(i + 1, files.length);
  }
  return compareSuites(pairs);
}

export function registerConformance(program: Command): void {
  program.command('conformance')
    .description('run every oracle transcript through the model and score outcome, error text and graph per area')
    .argument('[dir]', 'transcripts (default: the recorded set shipped with blockgraph)', TRANSCRIPTS_DIR)
    .option('--json', 'JSON report')
    .addHelpText('after', `
Examples:
  $ blockgraph conformance                  the ${'64'} transcripts shipped with blockgraph (oracle/transcripts)
  $ blockgraph conformance ./my-transcripts --json`)
    .action(async (dir, o) => {
      const s = await runConformance(dir, progress('conformance', !o.json));
      // the shipped set: the vm target's transcripts (oracle/transcripts/vm) are scored apart
      const vm = dir === TRANSCRIPTS_DIR && existsSync(VM_TRANSCRIPTS_DIR) ? await runConformance(VM_TRANSCRIPTS_DIR) : undefined;
      const rowsOf = (c: typeof s) => {
        const rows = Object.entries(c.byArea).map(([a, v]) => [a, String(v.totals.steps), `${v.percent.outcome}%`, `${v.percent.errorText}%`, `${v.percent.graph}%`]);
        rows.push(['total', String(c.totals.steps), `${c.percent.outcome}%`, `${c.percent.errorText}%`, `${c.percent.graph}%`]);
        return rows;
      };
      if (o.json) printJson(vm ? { ...s, vm } : s);
      else {
        console.log(table(rowsOf(s), ['area', 'steps', 'outcome', 'error text', 'graph']));
        if (vm) {
          console.log('\nvm target (qemu-system-x86_64 q35, oracle/transcripts/vm):');
          console.log(table(rowsOf(vm), ['area', 'steps', 'outcome', 'error text', 'graph']));
        }
      }
      process.exitCode = s.percent.outcome === 100 && (!vm || vm.percent.outcome === 100) ? EXIT.ok : EXIT.failed;
    });
}
