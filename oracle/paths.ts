// Where the package's own data lives (recorded transcripts), found from this module's location so
// it resolves the same from the sources (tsx) and from an installed package (dist/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try { if (JSON.parse(readFileSync(pj, 'utf8')).name === 'blockgraph') return dir; } catch { /* keep walking */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('blockgraph: cannot find the package root from ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const PACKAGE_ROOT = packageRoot();
/** The transcripts recorded from qemu-storage-daemon 7.2 by `blockgraph qmp record` (see its README). */
export const TRANSCRIPTS_DIR = join(PACKAGE_ROOT, 'oracle', 'transcripts');
/** The vm target's transcripts (issue 17), recorded from qemu-system-x86_64 7.2 (`qmp record --target vm`). */
export const VM_TRANSCRIPTS_DIR = join(TRANSCRIPTS_DIR, 'vm');
/** The same scenarios recorded from qemu-storage-daemon 10.0.2 (issue 19). */
export const TRANSCRIPTS_10_0_DIR = join(TRANSCRIPTS_DIR, 'qemu-10.0');
/** The recorded set of a QEMU version. */
export const transcriptsDir = (v: '7.2' | '10.0'): string => (v === '10.0' ? TRANSCRIPTS_10_0_DIR : TRANSCRIPTS_DIR);
/** The vm target's recorded set of a QEMU version: oracle/transcripts/vm, oracle/transcripts/qemu-10.0/vm. */
export const vmTranscriptsDir = (v: '7.2' | '10.0'): string => join(transcriptsDir(v), 'vm');
