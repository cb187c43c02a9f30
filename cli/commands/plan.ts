import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { planReopen } from '../../graph/reopen/plan.js';
import { replay } from '../../replay/replay.js';
import { DEFAULT_DB, EXIT, printJson, table, withReadLog } from '../context.js';

export function registerPlan(program: Command): void {
  const plan = program.command('plan').description('show what an operation would do, without doing it');
  plan.command('reopen')
    .description('the ordered reopen queue and steps of a blockdev-reopen (options as JSON: a list, or {"options": [...]})')
    .argument('<options>', 'JSON text, or @FILE')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'QEMU process', 'A')
    .option('--json', 'JSON plan')
    .action(async (text: string, o) => {
      let v: unknown;
      try { v = JSON.parse(text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text); } catch (e) {
        throw new BlockgraphError('BG_BAD_INPUT', `options are not JSON: ${(e as Error).message}`);
      }
      const list = Array.isArray(v) ? v : (v as { options?: unknown }).options;
      if (!Array.isArray(list)) throw new BlockgraphError('BG_BAD_INPUT', 'expected a list of BlockdevOptions or {"options": [...]}');
      const p = await withReadLog(o.db, async (log) => planReopen((await replay(log)).state, o.proc, list as Record<string, unknown>[]));
      if (o.json) printJson(p);
      else {
        console.log(`queue (QEMU's order): ${p.queue.join(', ') || '-'}`);
        console.log(table(p.steps.map((s, i) => [String(i + 1), s.step, JSON.stringify({ ...s, step: undefined })]), ['#', 'step', 'detail']));
        console.log(p.ok ? 'verdict: ok' : `verdict: refused: ${p.error!.desc}`);
      }
      process.exitCode = p.ok ? EXIT.ok : EXIT.failed;
    });
}
