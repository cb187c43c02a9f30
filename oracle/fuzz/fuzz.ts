// The live differential fuzzer: cases generated against qemu-storage-daemon, each run on the
// model too; every new kind of disagreement is shrunk to a minimal scenario and saved as a
// transcript recorded from the daemon. Figures per 1,000 commands, by category.
import type { QemuBinaries } from '../qemu-bins.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockgraphError } from '../../errors/index.js';
import { printJson, printTranscript, type Scenario } from '../format.js';
import { findingKey, matchKnown, type KnownDisagreements } from './known.js';
import { caseSeed } from './rng.js';
import { ImageCache, runCase, runFixed, type Category, type Finding } from './run-case.js';
import { sameFinding, shrink } from './shrink.js';

export const CATEGORIES: Category[] = ['outcome', 'error-text', 'graph', 'model-crash', 'qemu-abort', 'harness'];

export interface FuzzOptions {
  seed: number;
  /** The QEMU to fuzz against (its binaries); the model runs each case under that version's rules. */
  bins?: QemuBinaries;
  /** Stop once this many commands were sent. */
  commands: number;
  /** Commands per case (a fresh pair of daemons each). */
  caseLength?: number;
  /** Where minimal transcripts of new findings go; nothing is saved without it. */
  out?: string;
  /** Shrink new findings (default true). */
  shrink?: boolean;
  shrinkBudget?: number;
  known?: KnownDisagreements;
  waitTimeoutMs?: number;
  onCase?: (info: { index: number; seed: number; commands: number; total: number; finding?: Finding }) => void;
  onFinding?: (d: DistinctFinding) => void;
  /** Checked between cases: a long run stopped by a signal still ends with its report. */
  shouldStop?: () => boolean;
}

export interface DistinctFinding {
  key: string;
  finding: Finding;
  count: number;
  /** Seed of the first case that showed it. */
  seed: number;
  /** The known-disagreements entry it matches, if any. */
  known?: string;
  steps?: number;
  saved?: string;
  /** The shrunk case did not reproduce on a second run (QEMU timing). */
  flaky?: boolean;
}

export interface FuzzReport {
  seed: number;
  commands: number;
  cases: number;
  /** Disagreements per category: the one that ended each case, plus known error-text ones a case went on after. */
  byCategory: Record<Category, number>;
  perThousand: Record<Category, number>;
  distinct: DistinctFinding[];
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48);

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const images = new ImageCache(opts.bins);
  const run = { waitTimeoutMs: opts.waitTimeoutMs ?? 5000, images };
  const caseLength = opts.caseLength ?? 25;
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const distinct = new Map<string, DistinctFinding>();
  let commands = 0;
  let cases = 0;
  try {
    for (let i = 0; commands < opts.commands && !opts.shouldStop?.(); i++) {
      const s = caseSeed(opts.seed, i);
      const isKnown = opts.known ? (f: Finding) => matchKnown(f, opts.known!) !== undefined : undefined;
      const r = await runCase(s, Math.min(caseLength, opts.commands - commands), run, isKnown);
      commands += Math.max(1, r.commands);
      cases++;
      opts.onCase?.({ index: i, seed: s, commands: r.commands, total: commands, finding: r.finding });
      for (const f of [...r.passed, ...(r.finding ? [r.finding] : [])]) {
        byCategory[f.category]++;
        const key = findingKey(f);
        const seen = distinct.get(key);
        if (seen) { seen.count++; continue; }
        const known = opts.known ? matchKnown(f, opts.known) : undefined;
        const d: DistinctFinding = { key, finding: f, count: 1, seed: s, known: known?.cause };
        distinct.set(key, d);
        if (opts.shrink !== false && !known && f.category !== 'harness') await minimize(d, r.scenario, opts, run);
        opts.onFinding?.(d);
      }
    }
  } finally {
    images.dispose();
  }
  const perThousand = Object.fromEntries(CATEGORIES.map((c) => [c, commands ? Math.round((byCategory[c] * 1e6) / commands) / 1000 : 0])) as Record<Category, number>;
  return { seed: opts.seed, commands, cases, byCategory, perThousand, distinct: [...distinct.values()] };
}

async function minimize(d: DistinctFinding, scenario: Scenario, opts: FuzzOptions, run: Parameters<typeof runFixed>[1]): Promise<void> {
  const target = d.finding;
  const { scenario: small } = await shrink(scenario, target, {
    budget: opts.shrinkBudget ?? 150,
    test: async (s) => (await runFixed(s, run)).finding,
  });
  d.steps = small.steps.length;
  const name = `fuzz-${slug(`${target.category}-${target.command}`)}-${d.seed}`;
  const again = await runFixed({ ...small, name, description: `found by blockgraph fuzz (seed ${d.seed}): ${target.category} at ${target.command}: ${target.message.split('\n')[0]}`.slice(0, 400) }, run);
  d.flaky = !again.finding || !sameFinding(again.finding, target);
  if (!opts.out) return;
  const file = join(opts.out, again.qsd ? `${name}.json` : `${name}.scenario.json`);
  try {
    mkdirSync(opts.out, { recursive: true });
    // the daemon died: there is no transcript, only the scenario that kills it
    writeFileSync(file, again.qsd ? printTranscript(again.qsd) : printJson({ ...small, name }));
    d.saved = file;
  } catch (e) {
    // a full disk or a vanished directory loses this file, not the run
    throw new BlockgraphError('BG_BAD_INPUT', `cannot save ${file}: ${(e as Error).message}`);
  }
}

export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz: seed ${r.seed}, ${r.commands} commands in ${r.cases} cases`,
    `disagreements per 1,000 commands: ${CATEGORIES.map((c) => `${c} ${r.perThousand[c]} (${r.byCategory[c]})`).join(', ')}`,
  ];
  for (const d of r.distinct) {
    lines.push(`- [${d.finding.category}] ${d.finding.command} ×${d.count}${d.known ? ` (known: ${d.known})` : ''}${d.flaky ? ' (flaky)' : ''}${d.saved ? ` → ${d.saved} (${d.steps} steps)` : ''}`);
    lines.push(`    ${d.finding.message.split('\n').map((l) => l.trim()).join(' / ')}`);
  }
  return lines.join('\n');
}
