// `blockgraph report --out DIR`: a static page (DIR/index.html) with the timeline and the
// graph after every transaction, refusal and recovery, built in one fold of the log.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { stateHash } from '../../graph/hash.js';
import { auditRows, type AuditRow } from '../../replay/audit.js';
import { emptyFold, foldRecord } from '../../replay/fold.js';
import { renderDot } from '../../replay/render-dot.js';
import type { LogRecord } from '../../store/index.js';
import { DEFAULT_DB, printJson, wallClock, withReadLog } from '../context.js';
import { progress } from '../progress.js';
import { reportHtml, type ReportEntry } from '../report-template.js';
import { dotToSvg } from './render.js';

export interface BuildReportOptions {
  store: string;
  proc?: string;
  everyStep?: boolean;
  last?: number;
  generatedAt: string;
  onProgress?: (done: number, total: number) => void;
}

/** The page for a list of records (the whole log from seq 1). */
export async function buildReport(records: LogRecord[], o: BuildReportOptions): Promise<{ html: string; entries: number; svgs: number }> {
  let rows = auditRows(records);
  if (o.proc) rows = rows.filter((r) => r.proc === o.proc);
  if (o.last !== undefined) rows = rows.slice(-o.last);
  // The state to draw for a row is the one after its last record.
  const endOf = new Map<number, AuditRow>();
  for (const r of rows) if (r.kind !== 'rejected') endOf.set(r.seqs[r.seqs.length - 1]!, r);
  const stepRows = new Map<number, AuditRow>();
  if (o.everyStep) for (const r of rows) if (r.kind === 'transaction') for (const s of r.seqs) stepRows.set(s, r);
  const cache = new Map<string, string>();
  let svgs = 0;
  const draw = async (state: ReturnType<typeof emptyFold>['state'], title: string) => {
    const key = stateHash(state) + '\0' + title;
    if (!cache.has(key)) { cache.set(key, await dotToSvg(renderDot(state, { proc: o.proc, title }))); svgs++; }
    return cache.get(key)!;
  };
  const entries = new Map<AuditRow, ReportEntry>(rows.map((r) => [r, { row: r }]));
  const f = emptyFold();
  let last = '';
  for (const rec of records) {
    foldRecord(f, rec);
    const sr = stepRows.get(rec.seq);
    if (sr && rec.type === 'txn.step') {
      const e = entries.get(sr)!;
      (e.steps ??= []).push({ name: String((rec.data as { name?: string }).name), seq: rec.seq, svg: await draw(f.state, `after seq ${rec.seq}`) });
    }
    const r = endOf.get(rec.seq);
    if (r) {
      // Only draw when the picture changed since the previous one (not for image-create, object-add…).
      const picture = renderDot(f.state, { proc: o.proc });
      if (picture !== last) entries.get(r)!.svg = await draw(f.state, `after seq ${rec.seq}: ${r.command}`);
      last = picture;
    }
    o.onProgress?.(rec.seq, records.length);
  }
  const html = reportHtml({
    title: 'blockgraph report', store: o.store, head: f.seq, generatedAt: o.generatedAt,
    entries: [...entries.values()], finalSvg: await draw(f.state, `at seq ${f.seq}`),
  });
  return { html, entries: entries.size, svgs };
}

export function registerReport(program: Command): void {
  program.command('report')
    .description('write a static HTML page (DIR/index.html, self-contained) with the timeline and the graph after each transaction')
    .requiredOption('--out <dir>', 'output directory')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'only this QEMU process')
    .option('--every-step', 'also draw the graph after every step of each transaction')
    .option('--last <n>', 'only the last n timeline entries')
    .option('--json', 'print a JSON summary instead of the path')
    .action(async (o) => {
      const lastN = o.last === undefined ? undefined : Number(o.last);
      if (lastN !== undefined && !(Number.isInteger(lastN) && lastN > 0)) throw new BlockgraphError('BG_BAD_INPUT', `--last: not a count: ${o.last}`);
      await withReadLog(o.db, async (log) => {
        const records = await log.readAll();
        const r = await buildReport(records, {
          store: resolve(o.db), proc: o.proc, everyStep: !!o.everyStep, last: lastN, generatedAt: wallClock(),
          onProgress: progress('report', !o.json && records.length > 2000),
        });
        mkdirSync(o.out, { recursive: true });
        const file = join(o.out, 'index.html');
        writeFileSync(file, r.html);
        if (o.json) printJson({ file: resolve(file), entries: r.entries, svgs: r.svgs, bytes: Buffer.byteLength(r.html) });
        else console.log(resolve(file));
      });
    });
}
