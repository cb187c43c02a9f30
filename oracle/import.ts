// Import of a real QEMU session into a blockgraph log: every command runs through the model
// (and is logged as the engine logs any command), and each step is checked against what QEMU
// answered. Disagreements become `import.disagreed` records next to the step, for audit.
//
// Two inputs:
//  - oracle: a `blockgraph-oracle/1` transcript (outcome, error text and the graph per step);
//  - qmp-shell: the file of `qmp-shell -l PATH`. qmp-shell writes one JSON object per command
//    it sent, the command merged with QEMU's response (`{**qmpcmd, **resp}`: execute,
//    arguments, then return or error), one per line, or indented over several lines with -p.
//    Events and the capabilities handshake are not in it, so there is no graph to compare.
import type { EngineOptions } from '../engine/engine.js';
import { BlockgraphError } from '../errors/index.js';
import type { EventLog } from '../store/index.js';
import type { QmpReply } from '../commands/protocol.js';
import { probeImages } from './image-probe.js';
import { declareHostOf } from './image-root.js';
import { NotingBackend } from '../engine/noting-backend.js';
import { compareSteps } from './compare.js';
import { isWaitStep, parseTranscript, scenarioOf, TRANSCRIPT_FORMAT, type Transcript } from './format.js';
import { runOnModel } from './run-model.js';

export type ImportFormat = 'oracle' | 'qmp-shell';

export interface ImportStep {
  index: number;
  proc: string;
  what: string;
  outcome: boolean;
  errorText: boolean;
  /** null where the input has no graph (qmp-shell). */
  graph: boolean | null;
  agreed: boolean;
  diff: string[];
}

export interface ImportReport {
  source: string;
  format: ImportFormat;
  steps: ImportStep[];
  agreed: number;
  disagreed: number;
  /** Seqs of the import.disagreed records. */
  records: number[];
  head: number;
}

export interface ImportOptions {
  format?: ImportFormat;
  /** Name for messages and records (the file name). */
  source?: string;
  clock?: EngineOptions['clock'];
  /** qmp-shell: the process the session was (default A). */
  proc?: string;
  /** qmp-shell: where the daemon resolved relative image names (images are learned with qemu-img info). */
  imageDir?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** oracle when the text is one object with the transcript format, qmp-shell otherwise. */
export function detectFormat(text: string): ImportFormat {
  try {
    const o = JSON.parse(text);
    if (isObj(o) && o.format === TRANSCRIPT_FORMAT) return 'oracle';
  } catch { /* several objects: a qmp-shell log */ }
  return 'qmp-shell';
}

export interface ShellEntry { execute: string; arguments: Record<string, unknown>; reply: QmpReply; line: number }

/** Splits concatenated JSON values (one per line, or pretty-printed over several) and parses each. */
export function parseQmpShellLog(text: string, where = 'qmp-shell log'): ShellEntry[] {
  const out: ShellEntry[] = [];
  let depth = 0;
  let start = -1;
  let inStr = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') { inStr = true; continue; }
    if (c === '{') { if (depth++ === 0) { start = i; startLine = line; } continue; }
    if (c === '}') {
      if (--depth === 0) out.push(entryOf(text.slice(start, i + 1), where, startLine));
      if (depth < 0) throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: unbalanced '}'`, { line });
      continue;
    }
    if (depth === 0 && !/\s/.test(c)) throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: expected a JSON object, found '${c}'`, { line });
  }
  if (depth !== 0 || inStr) throw new BlockgraphError('BG_BAD_INPUT', `${where}: the last entry (line ${startLine}) is cut off`, { line: startLine });
  if (out.length === 0) throw new BlockgraphError('BG_BAD_INPUT', `${where}: no commands`);
  return out;
}

function entryOf(s: string, where: string, line: number): ShellEntry {
  let o: unknown;
  try { o = JSON.parse(s); } catch (e) { throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: not JSON: ${(e as Error).message}`, { line }); }
  if (!isObj(o) || typeof o.execute !== 'string') throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: not a qmp-shell log entry (no 'execute')`, { line });
  const args = o.arguments === undefined ? {} : o.arguments;
  if (!isObj(args)) throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: 'arguments' must be an object`, { line });
  let reply: QmpReply;
  if ('return' in o) reply = { return: o.return };
  else if (isObj(o.error) && typeof o.error.desc === 'string') reply = { error: { class: String(o.error.class ?? 'GenericError'), desc: o.error.desc } };
  else throw new BlockgraphError('BG_BAD_INPUT', `${where}: line ${line}: the entry has neither 'return' nor 'error'`, { line });
  return { execute: o.execute, arguments: args, reply, line };
}

const show = (r: QmpReply) => ('error' in r ? `${r.error.class}: ${r.error.desc}` : 'ok');

async function importOracle(b: NotingBackend, t: Transcript, source: string): Promise<ImportStep[]> {
  const steps: ImportStep[] = [];
  await runOnModel(scenarioOf(t), b, {
    onStep: (index, actual) => {
      const expected = t.steps[index]!;
      const c = compareSteps(index, expected, actual);
      const agreed = c.outcome && c.errorText && c.graph;
      steps.push({ index, proc: c.proc, what: c.what, outcome: c.outcome, errorText: c.errorText, graph: c.graph, agreed, diff: agreed ? [] : c.diff });
      if (!agreed) {
        b.note({
          stream: c.proc, type: 'import.disagreed', at: b.now(),
          data: {
            source, format: 'oracle', step: index, command: c.what,
            args: isWaitStep(expected) ? expected.wait : expected.arguments,
            qemu: isWaitStep(expected) ? { ok: true } : expected.result,
            model: isWaitStep(actual) ? { ok: true } : actual.result,
            outcome: c.outcome, errorText: c.errorText, graph: c.graph, diff: c.diff,
          },
        });
      }
    },
  });
  return steps;
}

// The daemon's jobs progress on their own and qmp-shell logs no events: a verb QEMU accepted
// shows how far the job had got, so the model's job is moved that far first.
const JOB_REACHED: Record<string, string> = {
  'job-finalize': 'pending', 'job-complete': 'ready', 'block-job-complete': 'ready', 'job-dismiss': 'concluded',
};

async function importShell(b: NotingBackend, entries: ShellEntry[], source: string, proc: string, imageDir?: string): Promise<ImportStep[]> {
  const steps: ImportStep[] = [];
  for (const [index, e] of entries.entries()) {
    if (e.execute === 'qmp_capabilities') continue;
    if (imageDir !== undefined) {
      // the daemon's O_DIRECT alignment is its image directory's (raw_probe_alignment)
      await declareHostOf(b, proc, imageDir);
      for (const img of await probeImages(b.state, e.arguments, imageDir)) await b.execute(proc, 'x-blockgraph-image-create', { ...img });
    }
    const reached = JOB_REACHED[e.execute];
    const jobId = e.arguments.id ?? e.arguments.device;
    if (reached && !('error' in e.reply) && typeof jobId === 'string') {
      await b.execute(proc, 'x-blockgraph-job-advance', { id: jobId, status: reached });
    }
    const r = await b.execute(proc, e.execute, e.arguments);
    const qOk = !('error' in e.reply);
    const mOk = !('error' in r.reply);
    const outcome = qOk === mOk;
    const errorText = outcome && (qOk || show(e.reply) === show(r.reply));
    const agreed = outcome && errorText;
    const diff = agreed ? [] : [`QEMU: ${show(e.reply)}`, `model: ${show(r.reply)}`];
    steps.push({ index, proc, what: e.execute, outcome, errorText, graph: null, agreed, diff });
    if (!agreed) {
      b.note({
        stream: proc, type: 'import.disagreed', at: b.now(),
        data: {
          source, format: 'qmp-shell', step: index, line: e.line, command: e.execute, args: e.arguments,
          qemu: qOk ? { ok: true } : { ok: false, ...(e.reply as { error: object }).error },
          model: mOk ? { ok: true } : { ok: false, ...(r.reply as { error: object }).error },
          outcome, errorText, graph: null, diff,
        },
      });
    }
  }
  return steps;
}

/** An input parsed whole: what `importQmpLog` runs. */
export interface ParsedImport { format: ImportFormat; t?: Transcript; e?: ShellEntry[] }

/** Parses `text` whole (a bad file throws here, before any store is opened). */
export function parseImport(text: string, opts: Pick<ImportOptions, 'format' | 'source'> = {}): ParsedImport {
  const source = opts.source ?? 'input';
  const format = opts.format ?? detectFormat(text);
  return format === 'oracle' ? { format, t: parseTranscript(text, source) } : { format, e: parseQmpShellLog(text, source) };
}

/** Parses `text` (whole, before anything is logged), then runs it into `log`. */
export async function importQmpLog(log: EventLog, text: string | ParsedImport, opts: ImportOptions = {}): Promise<ImportReport> {
  const source = opts.source ?? 'input';
  const input = typeof text === 'string' ? parseImport(text, opts) : text;
  const format = input.format;
  const b = await NotingBackend.open(log, { clock: opts.clock });
  const steps = input.t
    ? await importOracle(b, input.t, source)
    : await importShell(b, input.e!, source, opts.proc ?? 'A', opts.imageDir);
  await b.flush();
  const agreed = steps.filter((s) => s.agreed).length;
  return { source, format, steps, agreed, disagreed: steps.length - agreed, records: b.written, head: log.head };
}
