// `blockgraph report --out DIR`: a browsable HTML report of a log of any size. It streams:
// two passes over the log, each record read once per pass and dropped; what stays in memory
// is the folded state, the open transactions and one timeline page. Pass 1 groups the records
// into timeline entries (audit rows) and picks the entries that get a picture (the newest
// --graphs that changed the graph); pass 2 folds the log, writes the timeline a page at a
// time (timeline-NNNN.html) and, for each picked entry, entries/eSEQ.html with the graph
// around the nodes it touched (drawing all 1,500 nodes of a big graph per entry would be
// unreadable and take hours). index.html, written last, links the pages and shows the graph
// at the head when it is small enough to read.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { endsTxn } from '../../events/ends.js';
import type { AuditRow } from '../../replay/audit.js';
import type { EventLog } from '../../store/index.js';
import { countArg, intArg, nameArg, outArg } from '../args.js';
import { DEFAULT_DB, printJson, wallClock, withReadLog } from '../context.js';
import { progress } from '../progress.js';
import { DISK_REFUSED, writeNewFile } from '../out-file.js';

/** Above this many nodes the head's full graph is not laid out (Graphviz takes minutes and nobody can read it). */
export const FULL_GRAPH_MAX_NODES = 300;

export interface ReportOptions {
  out: string;
  store: string;
  proc?: string;
  everyStep?: boolean;
  /** Only the last n timeline entries. */
  last?: number;
  /** At most this many entries get a picture: the newest that changed the graph. */
  graphs: number;
  pageSize: number;
  generatedAt: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ReportSummary { dir: string; index: string; entries: number; pages: number; pictures: number; files: number }

export async function writeReport(log: EventLog, o: ReportOptions): Promise<ReportSummary> {
  const [{ AuditGrouper }, { emptyFold, foldStepwise }, { renderDot }, { dotToSvg }, t] = await Promise.all([
    import('../../replay/audit.js'), import('../../replay/fold.js'), import('../../replay/render-dot.js'), import('./render.js'), import('../report-template.js')]);
  const head = log.head;
  const wanted = (r: AuditRow) => !o.proc || r.proc === o.proc;
  const changed = (r: AuditRow) => r.kind !== 'rejected' && r.nodes.length > 0;

  // Pass 1: which entries, which pictures. Memory: the newest --last entry seqs and the newest
  // --graphs changing ones (what the pages need of them), never a number per entry of the log.
  let entries = 0;
  const newest = new TopSeqs(o.last ?? 0);
  const changing = new TopSeqs(o.graphs);
  const procs = new Set<string>();
  {
    const g = new AuditGrouper();
    const take = (rows: AuditRow[]) => {
      for (const r of rows) {
        if (!wanted(r)) continue;
        entries++;
        newest.add(r.seq);
        procs.add(r.proc);
        if (changed(r)) changing.add(r.seq);
      }
    };
    for await (const rec of log.read({ lte: head })) {
      take(g.push(rec));
      o.onProgress?.(rec.seq, 2 * head);
    }
    take(g.flush());
  }
  // --last n: from the n-th newest entry on (every entry when there are not more than n).
  const firstSeq = o.last !== undefined && entries > o.last ? newest.smallest() : 0;
  const inRange = o.last !== undefined ? Math.min(entries, o.last) : entries;
  // The newest --graphs changing entries at or after firstSeq (an upper set: filtering the newest keeps the newest).
  const draw = new Set(changing.values().filter((s) => s >= firstSeq));
  const pages = Math.max(1, Math.ceil(inRange / o.pageSize));
  const oneProc = procs.size <= 1;

  // Output: our own file names only are replaced; nothing else in DIR is touched. The old
  // index.html goes first: a run that fails part-way (a full disk) must not leave an index
  // whose pages it has already removed.
  mkdirSync(join(o.out, 'entries'), { recursive: true });
  rmSync(join(o.out, 'index.html'), { force: true });
  for (const f of readdirSync(o.out)) if (/^timeline-\d{4,}\.html$/.test(f)) rmSync(join(o.out, f));
  for (const f of readdirSync(join(o.out, 'entries'))) if (/^e\d+\.html$/.test(f)) rmSync(join(o.out, 'entries', f));
  const hdr = { title: 'blockgraph report', store: o.store, head, generatedAt: o.generatedAt };
  let files = 0;

  const svgOf = async (state: ReturnType<typeof emptyFold>['state'], focus: string[], title: string): Promise<string | undefined> => {
    // Nothing left to draw when every node it touched is gone (blockdev-del).
    if (!focus.some((k) => { const i = k.indexOf(':'); return !!state[k.slice(0, i)]?.nodes?.[k.slice(i + 1)]; })) return undefined;
    return dotToSvg(renderDot(state, { proc: o.proc, title, focus }));
  };

  // Pass 2: fold, write pages as they fill and entry pages as their entries complete.
  const f = emptyFold();
  const g = new AuditGrouper();
  const beginOf = new Map<string, number>(); // open transaction -> its entry's seq (for --every-step)
  const stepSvgs = new Map<number, { name: string; seq: number; svg: string }[]>();
  const pageInfo: { n: number; first: number; last: number; rows: number }[] = [];
  let pageRows: string[] = [];
  let pageFirst = 0;
  let pageLast = 0;
  let index = 0;
  const flushPage = () => {
    if (!pageRows.length) return;
    const n = pageInfo.length + 1;
    writeOut(join(o.out, t.pageFile(n)), t.timelinePage(hdr, n, pages, t.TIMELINE_HEAD + pageRows.join('') + t.TIMELINE_TAIL));
    files++;
    pageInfo.push({ n, first: pageFirst, last: pageLast, rows: pageRows.length });
    pageRows = [];
  };
  const emit = async (rows: AuditRow[]) => {
    for (const r of rows.sort((a, b) => a.seq - b.seq)) {
      if (!wanted(r) || r.seq < firstSeq) continue;
      const pictured = draw.has(r.seq);
      if (pictured) {
        const svg = await svgOf(f.state, r.nodes, `after seq ${r.seqs[r.seqs.length - 1]}: ${r.command}`);
        // Its timeline page: where this row is written (rows are written in seq order).
        writeOut(join(o.out, t.entryFile(r)), t.entryPage(hdr, r, Math.floor(index / o.pageSize) + 1, svg, stepSvgs.get(r.seq) ?? []));
        files++;
        stepSvgs.delete(r.seq);
      }
      if (!pageRows.length) pageFirst = r.seq;
      pageLast = r.seq;
      pageRows.push(t.timelineRow(r, { oneProc, hasPage: pictured }));
      index++;
      if (pageRows.length >= o.pageSize) flushPage();
    }
  };
  for await (const rec of log.read({ lte: head })) {
    // part by part: a whole transaction's steps (events/whole.ts) are pictured one at a time too
    for (const part of foldStepwise(f, rec)) {
      if (part.type === 'txn.begun' && part.txn) beginOf.set(part.txn, part.seq);
      if (o.everyStep && part.type === 'txn.step' && part.txn) {
        const s = beginOf.get(part.txn);
        if (s !== undefined && draw.has(s)) {
          const d = part.data as { name?: string; changes?: { c: string; s: string; id: string; before: unknown; after: unknown }[] };
          const focus = [...new Set((d.changes ?? []).flatMap((ch) => (ch.c === 'nodes' ? [`${ch.s}:${ch.id}`] : [])))];
          const svg = focus.length ? await svgOf(f.state, focus, `after seq ${part.seq}`) : undefined;
          if (svg) { const l = stepSvgs.get(s) ?? []; l.push({ name: String(d.name), seq: part.seq, svg }); stepSvgs.set(s, l); }
        }
      }
    }
    const done = g.push(rec);
    if (endsTxn(rec) && rec.txn) beginOf.delete(rec.txn);
    if (done.length) await emit(done);
    o.onProgress?.(head + rec.seq, 2 * head);
  }
  await emit(g.flush());
  flushPage();

  let nodes = 0;
  for (const [scope, s] of Object.entries(f.state)) if (scope !== '@host' && (!o.proc || scope === o.proc)) nodes += Object.keys(s.nodes ?? {}).length;
  const finalSvg = nodes <= FULL_GRAPH_MAX_NODES ? await dotToSvg(renderDot(f.state, { proc: o.proc, title: `at seq ${head}`, legend: false })) : undefined;
  const indexFile = join(o.out, 'index.html');
  writeOut(indexFile, t.indexPage(hdr, {
    entries: index, pages: pageInfo, drawn: draw.size, finalSvg,
    finalNote: `${nodes} nodes: more than ${FULL_GRAPH_MAX_NODES}, too many to lay out readably. Draw one process or a point with blockgraph render --proc P --at SEQ --format svg, or one node's chain with blockgraph show --chain NODE.`,
  }));
  files++;
  return { dir: resolve(o.out), index: resolve(indexFile), entries: index, pages: pageInfo.length, pictures: draw.size, files };
}

export function registerReport(program: Command): void {
  program.command('report')
    .description('write a browsable HTML report (DIR/index.html and its pages): the timeline, paged, and one page per entry with the graph around what it touched')
    .requiredOption('--out <dir>', 'output directory (its index.html, timeline-*.html and entries/ are replaced)', outArg())
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'only this QEMU process', nameArg('--proc'))
    .option('--every-step', 'also draw the graph after every step of each pictured entry')
    .option('--last <n>', 'only the last n timeline entries', countArg('--last'))
    .option('--graphs <n>', 'draw pictures for the newest n entries that changed the graph (0: none)', intArg('--graphs', 0, 100_000), 200)
    .option('--page-size <n>', 'timeline rows per page', intArg('--page-size', 10, 100_000), 500)
    .option('--json', 'print a JSON summary instead of the path')
    .addHelpText('after', `
Examples:
  $ blockgraph report --out ./report && xdg-open ./report/index.html
  $ blockgraph report --out ./report --last 100 --every-step --json`)
    .action(async (o) => {
      await withReadLog(o.db, async (log) => {
        if (o.proc && log.head === 0) throw new BlockgraphError('BG_NOT_FOUND', `no process ${o.proc}: the log is empty`);
        const r = await writeReport(log, {
          out: o.out, store: resolve(o.db), proc: o.proc, everyStep: !!o.everyStep, last: o.last, graphs: o.graphs, pageSize: o.pageSize,
          generatedAt: wallClock(), onProgress: progress('report', !o.json && log.head > 2000),
        });
        if (o.json) printJson({ file: r.index, ...r });
        else console.log(r.index);
      }, { scan: true }); // the whole log: a view LevelDB will not compact (store/read-only.ts makeFullView)
    });
}

/**
 * One of the report's own files, made anew: the name is removed and created exclusively, so a
 * symlink planted at it (a shared /tmp) is replaced, never followed into another file. A disk
 * that refuses is BG_STORAGE_IO naming the file (exit 74): the report is incomplete, and says so.
 */
export function writeOut(path: string, text: string): void {
  try {
    rmSync(path, { force: true });
    writeNewFile(path, Buffer.from(text, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && DISK_REFUSED.has(code)) {
      rmSync(path, { force: true });
      throw new BlockgraphError('BG_STORAGE_IO', `report: cannot write ${path}: ${code}; the report is incomplete (its index.html is written last)`);
    }
    throw e;
  }
}

/**
 * The `k` largest seqs added, sorted ascending (insertion from the back: rows complete nearly in
 * seq order). k = 0 keeps none.
 */
export class TopSeqs {
  readonly #k: number;
  readonly #a: number[] = [];
  /** The most seqs held at once (specs count it: bounded by k, not by the log). */
  maxHeld = 0;
  constructor(k: number) { this.#k = Math.max(0, k); }
  add(seq: number): void {
    const a = this.#a;
    const k = this.#k;
    if (k === 0 || (a.length >= k && seq <= a[a.length - k]!)) return;
    let i = a.length;
    while (i > 0 && a[i - 1]! > seq) i--;
    a.splice(i, 0, seq);
    if (a.length > this.maxHeld) this.maxHeld = a.length;
    if (a.length >= 2 * k + 64) a.splice(0, a.length - k); // trimmed now and then: amortised O(1) per seq
  }
  #trim(): number[] { if (this.#a.length > this.#k) this.#a.splice(0, this.#a.length - this.#k); return this.#a; }
  smallest(): number { return this.#trim()[0] ?? 0; }
  values(): number[] { return [...this.#trim()]; }
  get size(): number { return this.#trim().length; }
}
