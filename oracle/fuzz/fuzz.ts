// The live differential fuzzer: cases generated against qemu-storage-daemon, each run on the
// model too; every new kind of disagreement is shrunk to a minimal scenario and saved as a
// transcript recorded from the daemon. Figures per 1,000 commands, by category.
import type { QemuBinaries } from '../qemu-bins.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BlockgraphError } from '../../errors/index.js';
import { printJson, printTranscript, type Scenario } from '../format.js';
import { findingKey, matchKnown, type KnownDisagreements } from './known.js';
import { caseSeed } from './rng.js';
import { ImageCache, runCase, runFixed, type CaseOutcome, type Category, type Finding } from './run-case.js';
import { sameFinding, shrink } from './shrink.js';

export const CATEGORIES: Category[] = ['outcome', 'error-text', 'graph', 'reply', 'model-crash', 'qemu-abort', 'harness'];

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
  /**
   * Where every case's daemon transcript goes (`case-INDEX-SEED.json`; the scenario when the
   * daemon died), for scripts/fuzz-coverage.ts to count what the grammar sent.
   */
  casesDir?: string;
  /** Shrink new findings (default true). */
  shrink?: boolean;
  shrinkBudget?: number;
  known?: KnownDisagreements;
  waitTimeoutMs?: number;
  /** Cases run at once (default 1); the report does not depend on it. */
  parallel?: number;
  onCase?: (info: { index: number; seed: number; commands: number; total: number; finding?: Finding; report: () => FuzzReport }) => void;
  /** `vm`: drive qemu-system-x86_64 with guest devices (grammar-vm.ts) instead of qemu-storage-daemon. */
  target?: 'qsd' | 'vm';
  /** vm target: the fuzz machine's type (default q35). */
  machine?: 'q35' | 'pc';
  onFinding?: (d: DistinctFinding) => void;
  /** A line for stderr: temp directories the run could not remove. */
  onWarning?: (line: string) => void;
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
  /** The run was asked to stop while this finding shrank: `steps`/`saved` are as far as it got, unverified. */
  shrinkStopped?: boolean;
}

export interface FuzzReport {
  seed: number;
  commands: number;
  cases: number;
  /** Disagreements per category: the one that ended each case, plus known error-text ones a case went on after. */
  byCategory: Record<Category, number>;
  perThousand: Record<Category, number>;
  /** All categories together. */
  disagreements: number;
  disagreementsPerThousand: number;
  /** Distinct root causes met: known causes by their entry, each unexplained finding on its own. */
  rootCauses: number;
  /** Distinct findings not in the known list. */
  unexplained: number;
  /** Model exceptions (the CLI's exit 70) and daemon deaths. */
  exit70: number;
  qemuAborts: number;
  /** Cases that stopped at a wait whose job failed on the daemon instead (no finding). */
  inconclusive: number;
  /** Wall time of the run (for the commands/s figure; nothing depends on it). */
  elapsedMs: number;
  distinct: DistinctFinding[];
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48);

type Settled = { ok: true; value: CaseOutcome } | { ok: false; error: unknown };

export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const images = new ImageCache(opts.bins);
  const run = { waitTimeoutMs: opts.waitTimeoutMs ?? 5000, images, target: opts.target, ...(opts.machine ? { machine: opts.machine } : {}) };
  const caseLength = opts.caseLength ?? 25;
  const parallel = Math.max(1, opts.parallel ?? 1);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const distinct = new Map<string, DistinctFinding>();
  const isKnown = opts.known ? (f: Finding) => matchKnown(f, opts.known!) !== undefined : undefined;
  let commands = 0;
  let cases = 0;
  let inconclusive = 0;
  // Cases run `parallel` at a time (each on its own daemons and directory: they share nothing)
  // but are counted in index order, and the run is cases 0..K-1 for the least K that reaches
  // `commands`, so the report is the same at any parallelism. A case launched beyond K runs to its
  // end and is not counted. Every case gets the full case length, so a case's steps depend only
  // on its seed.
  const inFlight = new Map<number, Promise<Settled>>();
  let launched = 0;
  const launch = () => {
    const i = launched++;
    inFlight.set(i, runCase(caseSeed(opts.seed, i), caseLength, run, isKnown).then(
      (value): Settled => ({ ok: true, value }), (error: unknown): Settled => ({ ok: false, error })));
  };
  try {
    for (let i = 0; commands < opts.commands && !opts.shouldStop?.(); i++) {
      while (launched < i + parallel) launch();
      const settled = await inFlight.get(i)!;
      inFlight.delete(i);
      if (!settled.ok) throw settled.error;
      const r = settled.value;
      const s = caseSeed(opts.seed, i);
      commands += Math.max(1, r.commands);
      cases++;
      if (r.inconclusive) inconclusive++;
      if (opts.casesDir) saveCase(opts.casesDir, i, s, r);
      for (const f of [...r.passed, ...(r.finding ? [r.finding] : [])]) {
        byCategory[f.category]++;
        const key = findingKey(f);
        const seen = distinct.get(key);
        if (seen) { seen.count++; continue; }
        const known = opts.known ? matchKnown(f, opts.known) : undefined;
        const d: DistinctFinding = { key, finding: f, count: 1, seed: s, known: known?.cause };
        distinct.set(key, d);
        // a stopped run does not shrink (up to shrinkBudget more cases, each with its daemons and
        // directory, after a SIGINT that also reached the daemons of the cases in flight)
        if (opts.shrink !== false && !known && f.category !== 'harness' && !opts.shouldStop?.()) await minimize(d, r.scenario, opts, run);
        opts.onFinding?.(d);
      }
      opts.onCase?.({ index: i, seed: s, commands: r.commands, total: commands, finding: r.finding, report: () => summarize() });
    }
  } finally {
    // cases launched beyond the end still hold daemons: let them finish before the images go
    await Promise.all(inFlight.values());
    const left = await images.dispose();
    if (left.length) opts.onWarning?.(`could not remove ${left.length} temp director${left.length === 1 ? 'y' : 'ies'} (the next run sweeps them): ${left.slice(0, 3).join(', ')}`);
  }
  function summarize(): FuzzReport {
    const perThousand = Object.fromEntries(CATEGORIES.map((c) => [c, per1k(byCategory[c], commands)])) as Record<Category, number>;
    const total = CATEGORIES.reduce((n, c) => n + byCategory[c], 0);
    const list = [...distinct.values()];
    return {
      seed: opts.seed, commands, cases, byCategory, perThousand, disagreements: total, disagreementsPerThousand: per1k(total, commands),
      rootCauses: new Set(list.map((d) => d.known ?? `new: ${d.key}`)).size,
      unexplained: list.filter((d) => !d.known).length,
      exit70: byCategory['model-crash'], qemuAborts: byCategory['qemu-abort'],
      inconclusive, elapsedMs: Date.now() - started, distinct: list,
    };
  }
  return summarize();
}

function saveCase(dir: string, i: number, seed: number, r: CaseOutcome): void {
  const file = join(dir, `case-${String(i).padStart(5, '0')}-${seed}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, r.qsd ? printTranscript(r.qsd) : printJson(r.scenario));
  } catch (e) {
    throw new BlockgraphError('BG_BAD_INPUT', `cannot save ${file}: ${(e as Error).message}`);
  }
}

const per1k = (n: number, d: number) => (d ? Math.round((n * 1e6) / d) / 1000 : 0);

async function minimize(d: DistinctFinding, scenario: Scenario, opts: FuzzOptions, run: Parameters<typeof runFixed>[1]): Promise<void> {
  const target = d.finding;
  const { scenario: small, stopped } = await shrink(scenario, target, {
    budget: opts.shrinkBudget ?? 150,
    test: async (s) => (await runFixed(s, run)).finding,
    ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
  });
  d.steps = small.steps.length;
  const name = `fuzz-${slug(`${target.category}-${target.command}`)}-${d.seed}`;
  if (stopped) {
    // asked to stop mid-shrink: no second run to check it (that is one more case); what the
    // shrink has so far is saved as a scenario, to record or re-shrink by hand
    d.shrinkStopped = true;
    if (opts.out) d.saved = saveFile(join(opts.out, `${name}.scenario.json`), printJson({ ...small, name }));
    return;
  }
  const again = await runFixed({ ...small, name, description: `found by blockgraph fuzz (seed ${d.seed}): ${target.category} at ${target.command}: ${target.message.split('\n')[0]}`.slice(0, 400) }, run);
  d.flaky = !again.finding || !sameFinding(again.finding, target);
  if (!opts.out) return;
  // the daemon died: there is no transcript, only the scenario that kills it
  d.saved = again.qsd
    ? saveFile(join(opts.out, `${name}.json`), printTranscript(again.qsd))
    : saveFile(join(opts.out, `${name}.scenario.json`), printJson({ ...small, name }));
}

function saveFile(file: string, text: string): string {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  } catch (e) {
    // a full disk or a vanished directory loses this file, not the run
    throw new BlockgraphError('BG_BAD_INPUT', `cannot save ${file}: ${(e as Error).message}`);
  }
}

export function formatReport(r: FuzzReport): string {
  const secs = r.elapsedMs / 1000;
  const lines = [
    `fuzz: seed ${r.seed}, ${r.commands} commands in ${r.cases} cases, ${Math.round(secs)} s (${secs ? (r.commands / secs).toFixed(1) : '-'} commands/s)`,
    `disagreements: ${r.disagreements} (${r.disagreementsPerThousand} per 1,000 commands); distinct root causes ${r.rootCauses}; unexplained ${r.unexplained}; exit 70 (model exceptions) ${r.exit70}; QEMU aborts ${r.qemuAborts}; cases ended early (a wait whose job failed, or a node QEMU ejected) ${r.inconclusive}`,
    `per 1,000 commands by category: ${CATEGORIES.map((c) => `${c} ${r.perThousand[c]} (${r.byCategory[c]})`).join(', ')}`,
  ];
  for (const d of r.distinct) {
    lines.push(`- [${d.finding.category}] ${d.finding.command} ×${d.count}${d.known ? ` (known: ${d.known})` : ' NEW'}${d.flaky ? ' (flaky)' : ''}${d.shrinkStopped ? ' (shrink stopped)' : ''}${d.saved ? ` → ${d.saved} (${d.steps} steps)` : ''}`);
    lines.push(`    ${d.finding.message.split('\n').map((l) => l.trim()).join(' / ')}`);
  }
  return lines.join('\n');
}

/** One progress line for long runs. */
export function formatProgress(r: FuzzReport, target: number): string {
  const secs = r.elapsedMs / 1000;
  const rate = secs ? r.commands / secs : 0;
  const eta = rate ? Math.max(0, Math.round((target - r.commands) / rate / 60)) : '?';
  return `fuzz: ${r.commands}/${target} commands, ${r.cases} cases, ${rate.toFixed(1)} commands/s, ${r.disagreementsPerThousand} disagreements per 1,000, ${r.rootCauses} root causes (${r.unexplained} unexplained), exit 70: ${r.exit70}, QEMU aborts: ${r.qemuAborts}, ~${eta} min left`;
}
