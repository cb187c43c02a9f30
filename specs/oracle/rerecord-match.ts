// How a live re-recording is compared with the transcript it repeats (qsd-live, vm-live specs).
import { parseTranscript } from '../../oracle/index.js';

/**
 * A job's events after its start come from its coroutine and bottom halves, which QEMU's main
 * loop runs before or after the reply of the command that started it has been read and its graph
 * queried: the recorder puts them in that command's step or in the wait step that follows it, as
 * QEMU's timing had it (fuzz-backup-quorum-read-vote-fails: QUORUM_FAILURE from the backup's first
 * read). Two recordings that differ only in where that boundary fell are the same QEMU behaviour:
 * the events of a command and of the wait steps right after it are compared as one sequence;
 * everything else (results, graphs, every other step's events) must be byte-identical.
 */
export function sameUpToWaitBoundaries(expected: string, actual: string): boolean {
  const norm = (text: string): string => {
    const t = parseTranscript(text) as unknown as { steps: Record<string, unknown>[] };
    const steps = t.steps.map((s) => ({ ...s }));
    for (let i = 0; i < steps.length; i++) {
      if ('wait' in steps[i]!) continue;
      let j = i + 1;
      while (j < steps.length && 'wait' in steps[j]!) j++;
      if (j === i + 1) continue;
      // the command's and its waits' events, as one sequence on the last wait
      const all = steps.slice(i, j).flatMap((x) => (x.events as unknown[] | undefined) ?? []);
      for (let k = i; k < j - 1; k++) steps[k]!.events = [];
      steps[j - 1]!.events = all;
      i = j - 1;
    }
    return JSON.stringify({ ...t, steps });
  };
  try {
    return norm(expected) === norm(actual);
  } catch {
    return false;
  }
}
