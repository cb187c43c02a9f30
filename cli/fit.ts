// Tables that fit a terminal: `audit` fits 120 columns unless --wide. The fixed columns
// (seq, time, kind) keep their width; the free-text ones (command, outcome, touched) give up
// width, widest first, down to a floor, and show a cut cell with a trailing "…".
export function fitTable(rows: string[][], header: string[], opts: FitOptions): string {
  const w = fitWidths(naturalWidths(header, rows), header, opts);
  return [fitRow(header, w), fitRow(w.map((n) => '-'.repeat(n)), w), ...rows.map((r) => fitRow(r, w))].join('\n');
}

export interface FitOptions { width?: number; flexible: number[]; floor?: number }

const SEP = 2;

/** The widest cell of each column, header included (a loop: spreading 200k+ rows into Math.max overflows the stack). */
export function naturalWidths(header: string[], rows: string[][], grow?: number[]): number[] {
  const w = grow ?? header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < w.length; i++) if ((r[i] ?? '').length > w[i]!) w[i] = (r[i] ?? '').length;
  return w;
}

/** Column widths that fit opts.width: the flexible columns give up width, widest first, down to the floor. */
export function fitWidths(natural: number[], header: string[], opts: FitOptions): number[] {
  const w = [...natural];
  const total = () => w.reduce((a, b) => a + b, 0) + SEP * (w.length - 1);
  const floor = opts.floor ?? 12;
  if (opts.width !== undefined) {
    while (total() > opts.width) {
      const i = opts.flexible.filter((j) => w[j]! > Math.max(floor, header[j]!.length)).sort((a, b) => w[b]! - w[a]!)[0];
      if (i === undefined) break;
      w[i] = Math.max(floor, header[i]!.length, w[i]! - (total() - opts.width));
    }
  }
  return w;
}

const cut = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function fitRow(r: string[], w: number[]): string {
  return r.map((c, i) => (i === r.length - 1 ? cut(c ?? '', w[i]!) : cut(c ?? '', w[i]!).padEnd(w[i]!))).join(' '.repeat(SEP)).trimEnd();
}

/** One row of fixed-width columns (streams such as `tail` cannot measure their rows first). */
export function fixedRow(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
}
