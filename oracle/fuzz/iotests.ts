// The iotests port (oracle/transcripts/iotests/): every transcript run on the model and scored
// with the oracle's measures, per test and per step, for the per-test table in docs/fidelity.md
// and for the known-disagreements check in specs/oracle/iotests-port.spec.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBlockgraphError } from '../../errors/index.js';
import { compareTranscripts } from '../compare.js';
import { parseTranscript, scenarioOf } from '../format.js';
import { TRANSCRIPTS_DIR } from '../paths.js';
import { runOnModel, transcriptVersion } from '../run-model.js';

export const IOTESTS_DIR = join(TRANSCRIPTS_DIR, 'iotests');
/** The same port recorded on qemu-storage-daemon 10.0.2 (issue 19). */
export const IOTESTS_10_0_DIR = join(TRANSCRIPTS_DIR, 'qemu-10.0', 'iotests');

export interface IotestStepDisagreement {
  transcript: string;
  step: number;
  /** The first measure that fails: outcome, then error text, then graph; model-crash when the model threw. */
  category: 'outcome' | 'error-text' | 'graph' | 'model-crash';
  command: string;
  differs: string;
}

export interface IotestRow { name: string; test: string; steps: number; outcome: number; errorText: number; graph: number; crashed: boolean }

/** QEMU 7.2's tests/qemu-iotests/tests/ (a `tests-NAME[-variant]` transcript ports tests/NAME). */
const NAMED_TESTS = ['backing-file-invalidation', 'block-status-cache', 'copy-before-write', 'export-incoming-iothread',
  'fuse-allow-other', 'graph-changes-while-io', 'image-fleecing', 'migrate-bitmaps-postcopy-test', 'migrate-bitmaps-test',
  'migrate-during-backup', 'migration-permissions', 'mirror-ready-cancel-error', 'mirror-top-perms', 'nbd-multiconn',
  'nbd-qemu-allocation', 'nbd-reconnect-on-open', 'parallels-read-bitmap', 'qemu-img-bitmaps', 'qsd-jobs',
  'remove-bitmap-from-backing', 'reopen-file', 'stream-error-on-reset', 'stream-under-throttle'];

/**
 * The iotest a transcript ports: its name up to the first '-' (`245-reopen` → 245), or for
 * `tests-…` the named test it starts with (`tests-image-fleecing-push` → tests/image-fleecing).
 */
const iotestOf = (name: string): string => {
  if (!name.startsWith('tests-')) return name.split('-')[0]!;
  const rest = name.slice(6);
  const t = NAMED_TESTS.filter((n) => rest === n || rest.startsWith(`${n}-`)).sort((a, b) => b.length - a.length)[0];
  return `tests/${t ?? rest}`;
};

export async function scoreIotests(dir = IOTESTS_DIR): Promise<{ rows: IotestRow[]; disagreements: IotestStepDisagreement[] }> {
  const rows: IotestRow[] = [];
  const disagreements: IotestStepDisagreement[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const name = f.replace(/\.json$/, '');
    const expected = parseTranscript(readFileSync(join(dir, f), 'utf8'), f);
    let actual;
    try {
      // under the rules of the version that recorded it
      actual = await runOnModel(scenarioOf(expected), undefined, { qemuVersion: transcriptVersion(expected) });
    } catch (e) {
      // anything but a BlockgraphError is what the CLI would turn into exit 70
      rows.push({ name, test: iotestOf(name), steps: expected.steps.length, outcome: 0, errorText: 0, graph: 0, crashed: true });
      disagreements.push({ transcript: name, step: -1, category: 'model-crash', command: '-', differs: `${isBlockgraphError(e) && e.code !== 'BG_MODEL_CRASH' ? 'model refused the run' : 'model threw'}: ${(e as Error).message}`.slice(0, 300) });
      continue;
    }
    const c = compareTranscripts(expected, actual);
    rows.push({ name, test: iotestOf(name), steps: c.totals.steps, outcome: c.totals.outcome, errorText: c.totals.errorText, graph: c.totals.graph, crashed: false });
    for (const s of c.steps) {
      if (s.outcome && s.errorText && s.graph) continue;
      const category = !s.outcome ? 'outcome' : !s.errorText ? 'error-text' : 'graph';
      const line = s.diff.find((d) => (category === 'graph' ? /^(node|edge|parent) / : /^(outcome|error)/).test(d)) ?? s.diff[0] ?? '';
      disagreements.push({ transcript: name, step: s.index, category, command: s.what, differs: line.replace(/\s+/g, ' ').slice(0, 300) });
    }
  }
  return { rows, disagreements };
}

/** Per iotest: steps and agreement percentages. */
export function iotestTable(rows: IotestRow[]): { test: string; transcripts: number; steps: number; outcome: number; errorText: number; graph: number }[] {
  const by = new Map<string, { test: string; transcripts: number; steps: number; outcome: number; errorText: number; graph: number }>();
  for (const r of rows) {
    const t = by.get(r.test) ?? { test: r.test, transcripts: 0, steps: 0, outcome: 0, errorText: 0, graph: 0 };
    t.transcripts++; t.steps += r.steps; t.outcome += r.outcome; t.errorText += r.errorText; t.graph += r.graph;
    by.set(r.test, t);
  }
  return [...by.values()];
}
