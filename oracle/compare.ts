// Scores a model's transcript against the oracle's, step by step, with the README's three
// measures (outcome, error text, graph) plus events, which are scored apart.
import { diffReplies } from './replies.js';
import { isWaitStep, type NormEdge, type NormEvent, type NormGraph, type NormNode, type NormParent, type Transcript, type TranscriptStep } from './format.js';

export interface StepComparison {
  index: number;
  proc: string;
  /** `execute` or `wait <job> <status>`. */
  what: string;
  outcome: boolean;
  errorText: boolean;
  graph: boolean;
  events: boolean;
  /** Human-readable differences, empty when everything matches. */
  diff: string[];
}

export interface Tally { steps: number; outcome: number; errorText: number; graph: number; events: number }
export interface Percentages { outcome: number; errorText: number; graph: number; events: number }

export interface TranscriptComparison {
  name: string;
  area: string;
  steps: StepComparison[];
  totals: Tally;
  percent: Percentages;
  /** Structural problems (different step counts or step kinds). */
  problems: string[];
}

export interface SuiteComparison {
  transcripts: TranscriptComparison[];
  totals: Tally;
  percent: Percentages;
  byArea: Record<string, { totals: Tally; percent: Percentages }>;
}

const emptyTally = (): Tally => ({ steps: 0, outcome: 0, errorText: 0, graph: 0, events: 0 });
const pct = (n: number, d: number) => (d === 0 ? 100 : Math.round((n / d) * 10000) / 100);
export const percentages = (t: Tally): Percentages => ({
  outcome: pct(t.outcome, t.steps), errorText: pct(t.errorText, t.steps), graph: pct(t.graph, t.steps), events: pct(t.events, t.steps),
});
function add(into: Tally, t: Tally): void {
  into.steps += t.steps; into.outcome += t.outcome; into.errorText += t.errorText; into.graph += t.graph; into.events += t.events;
}

const nodeKey = (n: NormNode) => JSON.stringify(n.bitmaps ? [n.name, n.driver, n.ro, n.file ?? null, n.bitmaps] : [n.name, n.driver, n.ro, n.file ?? null]);
const parentKey = (p: NormParent) => JSON.stringify([p.name, p.type]);
const edgeKey = (e: NormEdge) => JSON.stringify([e.parent, e.name, e.child, e.perm, e.shared]);

/** Multiset difference both ways: what only `a` has and what only `b` has. */
function multisetDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
  const count = new Map<string, number>();
  for (const k of a) count.set(k, (count.get(k) ?? 0) + 1);
  const onlyB: string[] = [];
  for (const k of b) {
    const c = count.get(k) ?? 0;
    if (c > 0) count.set(k, c - 1);
    else onlyB.push(k);
  }
  const onlyA = [...count.entries()].flatMap(([k, c]) => Array<string>(c).fill(k));
  return { onlyA, onlyB };
}

/** Graph equality as the README defines it: nodes, parents and edges equal as sets. */
export function compareGraphs(expected: NormGraph, actual: NormGraph): string[] {
  const out: string[] = [];
  const part = <T>(label: string, key: (x: T) => string, a: T[], b: T[]) => {
    const { onlyA, onlyB } = multisetDiff(a.map(key), b.map(key));
    for (const k of onlyA) out.push(`${label} missing: ${k}`);
    for (const k of onlyB) out.push(`${label} extra:   ${k}`);
  };
  part('node', nodeKey, expected.nodes, actual.nodes);
  part('parent', parentKey, expected.parents, actual.parents);
  part('edge', edgeKey, expected.edges, actual.edges);
  return out;
}

const eventsText = (evs: NormEvent[]) => JSON.stringify(evs);
const stepWhat = (s: TranscriptStep) => (isWaitStep(s) ? `wait ${s.wait.job} ${s.wait.status}` : s.execute);

export function compareSteps(index: number, expected: TranscriptStep, actual: TranscriptStep | undefined): StepComparison {
  const what = stepWhat(expected);
  const diff: string[] = [];
  if (!actual) {
    return { index, proc: expected.proc, what, outcome: false, errorText: false, graph: false, events: false, diff: ['step missing'] };
  }
  const expOk = isWaitStep(expected) ? true : expected.result.ok;
  const actOk = isWaitStep(actual) ? true : actual.result.ok;
  if (stepWhat(actual) !== what || actual.proc !== expected.proc) diff.push(`different step: expected ${expected.proc} ${what}, got ${actual.proc} ${stepWhat(actual)}`);
  const outcome = expOk === actOk;
  let errorText = outcome;
  if (!isWaitStep(expected) && !isWaitStep(actual) && !expected.result.ok && !actual.result.ok) {
    errorText = expected.result.class === actual.result.class && expected.result.desc === actual.result.desc;
    if (!errorText) diff.push(`error: expected ${expected.result.class}: ${expected.result.desc}\n       got      ${actual.result.class}: ${actual.result.desc}`);
  } else if (!isWaitStep(expected) && !isWaitStep(actual) && expected.result.ok && actual.result.ok && typeof expected.result.return === 'string' && expected.execute === 'human-monitor-command') {
    // an hmp-text transcript: HMP's printed reply is the step's error text (handle_hmp_command)
    errorText = expected.result.return === actual.result.return;
    if (!errorText) diff.push(`hmp text: expected ${JSON.stringify(expected.result.return)}\n          got      ${JSON.stringify(actual.result.return ?? null)}`);
  } else if (!outcome) {
    const show = (s: TranscriptStep) => (isWaitStep(s) || s.result.ok ? 'ok' : `${s.result.class}: ${s.result.desc}`);
    diff.push(`outcome: expected ${show(expected)}, got ${show(actual)}`);
  }
  // a step without a graph: the recorder could not take it (oracle/harness.ts snapshotGraph: a
  // detached job filter); the model agrees when it is in the same state
  const graphDiff: string[] = expected.graph && actual.graph ? compareGraphs(expected.graph, actual.graph)
    : expected.graph || actual.graph ? [`graph: expected ${expected.graph ? 'one' : 'none (a detached job filter)'}, got ${actual.graph ? 'one' : 'none (a detached job filter)'}`] : [];
  // a `replies` transcript: a recorded query's reply is a view of the graph, scored as the step's
  // graph (oracle/replies.ts; member order within an object does not count, list order does)
  if (!isWaitStep(expected) && !isWaitStep(actual) && expected.result.ok && actual.result.ok
    && expected.result.return !== undefined && expected.execute !== 'human-monitor-command') {
    for (const d of diffReplies(expected.result.return, actual.result.return)) graphDiff.push(`reply ${d}`);
  }
  diff.push(...graphDiff);
  const events = eventsText(expected.events) === eventsText(actual.events);
  if (!events) diff.push(`events: expected ${eventsText(expected.events)}\n        got      ${eventsText(actual.events)}`);
  return { index, proc: expected.proc, what, outcome, errorText, graph: graphDiff.length === 0, events, diff };
}

export function compareTranscripts(expected: Transcript, actual: Transcript): TranscriptComparison {
  const problems: string[] = [];
  if (expected.steps.length !== actual.steps.length) {
    problems.push(`expected ${expected.steps.length} steps, got ${actual.steps.length}`);
  }
  const steps = expected.steps.map((s, i) => compareSteps(i, s, actual.steps[i]));
  const totals = emptyTally();
  for (const s of steps) {
    totals.steps++;
    if (s.outcome) totals.outcome++;
    if (s.errorText) totals.errorText++;
    if (s.graph) totals.graph++;
    if (s.events) totals.events++;
  }
  return { name: expected.name, area: expected.covers[0] ?? '-', steps, totals, percent: percentages(totals), problems };
}

/** Compares pairs (by name) and sums up overall and per area (`covers[0]`). */
export function compareSuites(pairs: { expected: Transcript; actual: Transcript }[]): SuiteComparison {
  const transcripts = pairs.map((p) => compareTranscripts(p.expected, p.actual));
  const totals = emptyTally();
  const areas: Record<string, Tally> = {};
  for (const t of transcripts) {
    add(totals, t.totals);
    add((areas[t.area] ??= emptyTally()), t.totals);
  }
  const byArea: SuiteComparison['byArea'] = {};
  for (const [a, t] of Object.entries(areas).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) byArea[a] = { totals: t, percent: percentages(t) };
  return { transcripts, totals, percent: percentages(totals), byArea };
}

/** A short text report: one line per mismatching step, then the totals. */
export function formatComparison(c: TranscriptComparison): string {
  const lines = [`${c.name} [${c.area}]: outcome ${c.percent.outcome}%, error text ${c.percent.errorText}%, graph ${c.percent.graph}%, events ${c.percent.events}%`];
  for (const p of c.problems) lines.push(`  ! ${p}`);
  for (const s of c.steps) {
    if (s.diff.length === 0) continue;
    lines.push(`  step ${s.index} (${s.proc} ${s.what}):`);
    for (const d of s.diff) lines.push(`    ${d}`);
  }
  return lines.join('\n');
}
