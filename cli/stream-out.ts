// Output for commands that walk a whole log (audit, history, log): rows are written as they
// are produced, so memory stays bounded however long the log is. Small outputs are byte for
// byte what printJson/table print for the same rows.
import { table } from './context.js';
import { fitRow, fitTable, fitWidths, naturalWidths, type FitOptions } from './fit.js';

const PAGE = 2000;

/** process.stdout.write that waits for 'drain' when the pipe is full (bounded buffering). */
async function write(s: string): Promise<void> {
  if (!process.stdout.write(s)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}

/** As printJson(array), element by element: "[\n  {…},\n  {…}\n]" (or "[]"). */
export async function streamJsonArray(items: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const it of items) {
    const body = JSON.stringify(it, null, 2).replace(/\n/g, '\n  ');
    await write((n === 0 ? '[\n  ' : ',\n  ') + body);
    n++;
  }
  await write(n === 0 ? '[]\n' : '\n]\n');
  return n;
}

/**
 * As console.log(table(rows, header)) when all rows fit in one page; beyond that, page by page
 * with column widths that only grow (a later page may be wider than the header line).
 */
export async function streamTable(rows: AsyncIterable<string[]>, header: string[], empty?: string): Promise<number> {
  let page: string[][] = [];
  let widths: number[] | undefined;
  let n = 0;
  const flush = async () => {
    if (!widths) {
      widths = header.map((h) => h.length);
      grow(widths, page);
      const fmtRows = page.map((r) => fmt(r, widths!));
      await write([fmt(header, widths), fmt(widths.map((w) => '-'.repeat(w)), widths), ...fmtRows].join('\n') + '\n');
    } else {
      grow(widths, page);
      await write(page.map((r) => fmt(r, widths!)).join('\n') + '\n');
    }
    page = [];
  };
  for await (const r of rows) {
    page.push(r);
    n++;
    if (page.length >= PAGE) await flush();
  }
  if (n === 0 && empty !== undefined) {
    await write(empty + '\n');
    return 0;
  }
  if (!widths) {
    await write(table(page, header) + '\n');
    return n;
  }
  if (page.length) await flush();
  return n;
}

function grow(widths: number[], rows: string[][]): void {
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
}

function fmt(r: string[], w: number[]): string {
  return r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(w[i]!))).join('  ');
}

/**
 * As console.log(fitTable(rows, header, opts)) when all rows fit in one page; beyond that, page
 * by page: each page is fitted from the widest cells seen so far (so columns only grow, and a
 * later page may be laid out wider than the header line). Memory: one page.
 */
export async function streamFitTable(rows: AsyncIterable<string[]>, header: string[], opts: FitOptions): Promise<number> {
  let page: string[][] = [];
  let natural: number[] | undefined;
  let n = 0;
  const flush = async () => {
    const first = natural === undefined;
    natural = naturalWidths(header, page, natural);
    const w = fitWidths(natural, header, opts);
    const lines = page.map((r) => fitRow(r, w));
    if (first) lines.unshift(fitRow(header, w), fitRow(w.map((x) => '-'.repeat(x)), w));
    await write(lines.join('\n') + '\n');
    page = [];
  };
  for await (const r of rows) {
    page.push(r);
    n++;
    if (page.length >= PAGE) await flush();
  }
  if (natural === undefined) {
    await write(fitTable(page, header, opts) + '\n');
    return n;
  }
  if (page.length) await flush();
  return n;
}
