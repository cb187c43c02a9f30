// `blockgraph drill upgrade --to 10.0`: a pre-upgrade check. Every command a log recorded is run
// again on the state the log had just before it, twice: under the rules of the version its
// process ran (the baseline) and under the target version's (graph/rules.ts). Every command
// whose outcome, error text or resulting graph differs between the two is reported: what the
// same request would have done on the other QEMU. Each command is checked on the recorded state,
// not on a state the target version would have built, so one difference does not cascade into
// every later command; a difference that changes the graph is marked as changing what follows.
// Pure over records (no clock, no I/O but the log read).
import { endOf } from '../events/ends.js';
import { partsOf } from '../events/whole.js';
import { executeCommand } from '../commands/model.js';
import type { QmpReply } from '../commands/protocol.js';
import { applyChanges } from '../graph/apply.js';
import type { Change } from '../graph/draft.js';
import type { State } from '../graph/types.js';
import { type QemuVersion, versionIn } from '../graph/version.js';
import { upcast } from '../events/upcast.js';
import type { LogRecord } from '../store/types.js';
import { diffStates } from './diff.js';

export interface UpgradeOutcome { ok: boolean; class?: string; desc?: string }

export interface UpgradeDifference {
  seq: number;
  proc: string;
  command: string;
  args: Record<string, unknown>;
  from: QemuVersion;
  /** outcome: ok/error differs; error-text: both errors, other text; graph: same answer, other graph. */
  kind: 'outcome' | 'error-text' | 'graph';
  before: UpgradeOutcome;
  after: UpgradeOutcome;
  /** The graph after the command under each version, as `blockgraph diff` lines (before → after). */
  graph: string[];
}

export interface UpgradeReport {
  to: QemuVersion;
  records: number;
  /** Commands in the log (committed transactions and refusals), process declarations excluded. */
  commands: number;
  /** Of them, run under both versions (the rest ran on a process already on the target version). */
  checked: number;
  /** Processes by the version the log says they ran. */
  processes: Record<string, QemuVersion>;
  differences: UpgradeDifference[];
  /** Commands whose baseline run does not give what the log recorded (a log from another blockgraph). */
  notes: string[];
}

interface Pending { seq: number; proc: string; op: string; args: Record<string, unknown>; before: State; commit?: QmpReply }

const outcomeOf = (r: QmpReply): UpgradeOutcome => ('error' in r ? { ok: false, class: r.error.class, desc: r.error.desc } : { ok: true });
const sameOutcome = (a: UpgradeOutcome, b: UpgradeOutcome) => a.ok === b.ok && a.class === b.class && a.desc === b.desc;

/** `state` with the process `proc` declared as `v` (its meta entity only; the rest shared). */
function withVersion(state: State, proc: string, v: QemuVersion | undefined): State {
  const scope = state[proc] ?? {};
  const meta = (scope.meta ?? {}) as Record<string, Record<string, unknown>>;
  const { qemu: _drop, ...rest } = meta.proc ?? { autoName: 0, seq: 0, nbd: null };
  const proc2 = v === undefined ? rest : { ...rest, qemu: v };
  return { ...state, [proc]: { ...scope, meta: { ...meta, proc: proc2 } } } as State;
}

/** Runs every recorded command under its own version and under `to`; see the module comment. */
export async function upgradeDrill(records: AsyncIterable<LogRecord[]>, to: QemuVersion): Promise<UpgradeReport> {
  const report: UpgradeReport = { to, records: 0, commands: 0, checked: 0, processes: {}, differences: [], notes: [] };
  let state: State = {};
  const open = new Map<string, Pending>();

  const check = (c: Pending, recorded: QmpReply | { error: { class: string; desc: string } }) => {
    if (c.op === 'x-blockgraph-process-start') return;
    report.commands++;
    const from = versionIn(c.before, c.proc);
    report.processes[c.proc] = from;
    if (from === to) return;
    report.checked++;
    let base, up;
    try {
      base = executeCommand(c.before, c.proc, c.op, c.args);
      up = executeCommand(withVersion(c.before, c.proc, to), c.proc, c.op, c.args);
    } catch (e) {
      report.notes.push(`seq ${c.seq} ${c.op}: the model threw: ${(e as Error).message}`);
      return;
    }
    const recordedOutcome = outcomeOf(recorded as QmpReply);
    const b = outcomeOf(base.reply);
    if (!sameOutcome(b, recordedOutcome)) {
      report.notes.push(`seq ${c.seq} ${c.op}: the log recorded ${recordedOutcome.ok ? 'ok' : recordedOutcome.desc}, this blockgraph answers ${b.ok ? 'ok' : b.desc} on ${from}`);
    }
    const a = outcomeOf(up.reply);
    // the version itself is the one field that must differ: compare the graphs without it
    const d = diffStates(withVersion(base.state, c.proc, undefined), withVersion(up.state, c.proc, undefined));
    const graph = d.entries.flatMap((e) => [`${e.scope === '@host' ? 'host' : `process ${e.scope}`}: ${e.change} ${e.kind} ${e.label}`, ...e.text.map((t) => `    ${t}`)]);
    const kind = a.ok !== b.ok ? 'outcome' : !sameOutcome(a, b) ? 'error-text' : graph.length ? 'graph' : null;
    if (kind) report.differences.push({ seq: c.seq, proc: c.proc, command: c.op, args: c.args, from, kind, before: b, after: a, graph });
  };

  for await (const chunk of records) {
    for (const whole of chunk) {
      report.records++;
      // a whole transaction (events/whole.ts) as the records it stands for
      for (const rec of partsOf(whole)) {
      const data = upcast(rec) as Record<string, any>;
      switch (rec.type) {
        case 'txn.begun':
          open.set(rec.txn!, { seq: rec.seq, proc: rec.stream, op: String(data.op), args: (data.args ?? {}) as Record<string, unknown>, before: state });
          break;
        case 'txn.step':
          state = applyChanges(state, data.changes as Change[]);
          break;
        case 'txn.compensated':
          state = applyChanges(state, data.changes as Change[], 'undo');
          break;
        case 'txn.decided':
        case 'txn.ended': {
          const c = open.get(rec.txn!);
          if (rec.type === 'txn.decided' && c && data.outcome === 'commit') c.commit = (data.reply ?? { return: {} }) as QmpReply;
          // the end is its own record, or rides on the decision of a one-batch transaction (events/ends.ts)
          const end = endOf(rec) as { recovered?: string } | undefined;
          if (!end) break;
          open.delete(rec.txn!);
          // rolled back (aborted or recovered): the command never happened
          if (c?.commit && end.recovered !== 'rolled-back') check(c, c.commit);
          break;
        }
        case 'command.rejected':
          if (typeof data.command === 'string') {
            check({ seq: rec.seq, proc: rec.stream, op: data.command, args: (data.args ?? {}) as Record<string, unknown>, before: state }, { error: data.error });
          }
          break;
        default:
          break;
      }
      }
    }
  }
  return report;
}

/** The report as text: one block per difference, then the totals. */
export function upgradeText(r: UpgradeReport): string {
  const out: string[] = [];
  const o = (x: UpgradeOutcome) => (x.ok ? 'ok' : `${x.class}: ${x.desc}`);
  for (const d of r.differences) {
    out.push(`seq ${d.seq} ${d.proc} ${d.command} ${JSON.stringify(d.args)}`);
    if (d.kind !== 'graph') {
      out.push(`  ${d.from}: ${o(d.before)}`);
      out.push(`  ${r.to}: ${o(d.after)}`);
    } else out.push(`  both: ${o(d.before)}; the graph after it differs (${d.from} → ${r.to}):`);
    if (d.graph.length) {
      if (d.kind !== 'graph') out.push(`  graph (${d.from} → ${r.to}):`);
      for (const g of d.graph) out.push(`    ${g}`);
    }
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  const procs = Object.entries(r.processes).map(([p, v]) => `${p} on ${v}`).join(', ') || 'none';
  out.push(`${r.differences.length} of ${r.checked} commands would change on QEMU ${r.to} (${r.commands} commands in ${r.records} records; processes: ${procs})`);
  return out.join('\n');
}
