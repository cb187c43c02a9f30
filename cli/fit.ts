// Tables that fit a terminal: `audit` fits 120 columns unless --wide. The fixed columns
// (seq, time, kind) keep their width; the free-text ones (command, outcome, touched) give up
// width, widest first, down to a floor, and show a cut cell with a trailing "…".
export function fitTable(rows: string[][], header: string[], opts: { width?: number; flexible: number[]; floor?: number }): string {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const sep = 2;
  const total = () => w.reduce((a, b) => a + b, 0) + sep * (w.length - 1);
  const floor = opts.floor ?? 12;
  if (opts.width !== undefined) {
    while (total() > opts.width) {
      const i = opts.flexible.filter((j) => w[j]! > Math.max(floor, header[j]!.length)).sort((a, b) => w[b]! - w[a]!)[0];
      if (i === undefined) break;
      w[i] = Math.max(floor, header[i]!.length, w[i]! - (total() - opts.width));
    }
  }
  const cut = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? cut(c ?? '', w[i]!) : cut(c ?? '', w[i]!).padEnd(w[i]!))).join(' '.repeat(sep)).trimEnd();
  return [fmt(header), fmt(w.map((n) => '-'.repeat(n))), ...rows.map(fmt)].join('\n');
}

/** One row of fixed-width columns (streams such as `tail` cannot measure their rows first). */
export function fixedRow(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
}
