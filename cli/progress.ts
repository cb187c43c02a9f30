// Progress on stderr for long work (replays, drills): a redrawn bar on a terminal, a few
// plain lines otherwise, nothing with --json.
export function progress(label: string, enabled = true): (done: number, total: number) => void {
  let lastPct = -1;
  const tty = process.stderr.isTTY;
  return (done, total) => {
    if (!enabled || total <= 0) return;
    const pct = Math.floor((100 * done) / total);
    if (pct === lastPct || (!tty && pct % 25 !== 0 && pct !== 100)) return;
    lastPct = pct;
    if (tty) {
      const w = 30;
      const fill = Math.round((w * done) / total);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${pct}% ${done}/${total}`);
      if (done >= total) process.stderr.write('\n');
    } else process.stderr.write(`${label}: ${pct}% (${done}/${total})\n`);
  };
}
