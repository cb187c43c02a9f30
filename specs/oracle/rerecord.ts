// Records a transcript's scenario again on the QEMU it was recorded on: the one re-recording the
// live specs (qsd-live, vm-live) and scripts/rerecord-list.ts share.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTranscript, printTranscript, runScenario, scenarioOf } from '../../oracle/index.js';
import { onHostOf, recordingRoot } from '../../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../../oracle/temp-dirs.js';
import { createImagesWithQemuImg, spawnQsd } from '../../oracle/qsd.js';
import { spawnVm } from '../../oracle/qemu-vm.js';
import type { QemuBinaries } from '../../oracle/qemu-bins.js';
import { sameUpToWaitBoundaries } from './rerecord-match.js';

/** recordings of one transcript before it counts as different */
export const ATTEMPTS = 3;

/** `misses`: every attempt's first difference, when none matched; `note`: how it matched, if not at once */
export interface Rerecorded { note?: string; misses?: string }

/**
 * Records `text`'s scenario again, at most ATTEMPTS times: a scenario with a `vm` member on
 * qemu-system-x86_64, else on qemu-storage-daemon on a host like the one it was recorded on (its
 * `host` member), whose facts it then carries; images by qemu-img and qemu-io of the same version
 * (as `qmp record --qemu` does). QEMU's own timing: a job that fails on its first I/O ends in a
 * bottom half that may run before or after the harness's graph query of the step that started it,
 * and a guest's part (an ACPI unplug, a device's reset) runs on the guest's; the transcript holds
 * one of the orders, so a recording that differs is taken again.
 */
export async function rerecord(text: string, bins: QemuBinaries): Promise<Rerecorded> {
  const scenario = scenarioOf(parseTranscript(text));
  const misses: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const root = scenario.vm ? tmpdir() : recordingRoot(scenario);
    // named after this process: a killed spec run's directory is swept by the next fuzz/record run
    const dir = scenario.vm ? mkdtempSync(join(root, 'bg-vm-')) : makeOwnedDirSync(root, 'bg-oracle');
    try {
      await createImagesWithQemuImg(scenario, dir, bins);
      const t = scenario.vm
        ? await runScenario(scenario, (proc) => spawnVm(dir, scenario.vm!, { label: proc, bins }), { dir })
        : await runScenario(onHostOf(scenario, root), (proc) => spawnQsd(dir, { label: proc, bin: bins.qsd }), { dir });
      const out = printTranscript(t);
      if (out === text) {
        return misses.length ? { note: `matched at attempt ${attempt} (QEMU timing; before: ${misses.join(' | ')})` } : {};
      }
      if (sameUpToWaitBoundaries(text, out)) return { note: "a job's events fell on the other side of a command/wait boundary (QEMU timing)" };
      const a = text.split('\n'), b = out.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      misses.push(`first difference at line ${i + 1}:\n- ${a[i]}\n+ ${b[i]}`);
    } finally {
      if (scenario.vm) rmSync(dir, { recursive: true, force: true }); else removeOwnedSync(dir);
    }
  }
  return { misses: misses.join('\n') };
}
