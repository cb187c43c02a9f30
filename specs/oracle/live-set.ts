// Which transcripts the live re-recording specs (qsd-live, vm-live) take again, and how many at once.
//
// Re-recording every transcript on every version grows with each set that lands (933 daemon and
// 474 VM recordings at stop 37, over half of `npm test`). `npm test` re-records a fixed sample
// that keeps every area of the set; `npm run test:live` (BG_LIVE=all) takes them all.

/** what a sample keeps: one in STRIDE of each area, always its first */
export const STRIDE = 5;

/**
 * An area is what a transcript's name says it tests: its first word (`fuzz-…`, `abort-…`,
 * `reopen-…`), or its first two for the sets named by letter (`combo-c7-…`, `vm-j-…`, `vm-lv2-…`).
 */
export function areaOf(file: string): string {
  const words = file.replace(/\.json$/, '').split('-');
  return (words[0] === 'combo' || words[0] === 'vm') && words.length > 2 ? `${words[0]}-${words[1]}` : words[0]!;
}

/**
 * The transcripts to re-record: all of them when `all`, else, in each area taken in name order,
 * the 1st, (1+STRIDE)th, … — the same files on every run (a sample that moved would make a
 * failure come and go), and at least one of every area however small.
 */
export function liveSelection(files: readonly string[], all: boolean): string[] {
  const sorted = [...files].sort();
  if (all) return sorted;
  const seen = new Map<string, number>();
  return sorted.filter((f) => {
    const a = areaOf(f);
    const k = seen.get(a) ?? 0;
    seen.set(a, k + 1);
    return k % STRIDE === 0;
  });
}

/** BG_LIVE=all: every transcript (npm run test:live); anything else: the sample */
export const liveAll = (): boolean => process.env.BG_LIVE === 'all';

/**
 * Recordings `width` at a time while uvu runs its tests one by one: the test for item i starts
 * items i … i+width-1 (those not started yet) and awaits item i, so at most `width` run at once,
 * none starts before this spec file's own tests do, and each result is reported by its own test.
 * Most of a recording's time is QEMU starting and answering, not this process's CPU.
 */
export function prefetching<T>(count: number, width: number, start: (i: number) => Promise<T>): (i: number) => Promise<T> {
  const started: Promise<T>[] = [];
  return (i) => {
    for (let k = i; k < Math.min(count, i + Math.max(1, width)); k++) {
      // a rejection is the owning test's to report; until then it must not count as unhandled
      if (!started[k]) { started[k] = start(k); started[k]!.catch(() => undefined); }
    }
    return started[i]!;
  };
}

/** BG_LIVE_WIDTH: recordings at once (default 2) */
export const liveWidth = (): number => {
  const n = Number(process.env.BG_LIVE_WIDTH ?? 2);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : 2;
};
