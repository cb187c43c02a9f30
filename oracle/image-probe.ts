// The model knows images only through its host catalogue. When it follows a real daemon (proxy,
// import of a qmp-shell log) the images are real files; this learns the ones a command names
// from `qemu-img info` before the model sees the command. Runs at the edge (reads the disk),
// never inside machines or replay.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { HOST, type State } from '../graph/types.js';
import { findExecutable } from './qsd.js';

const run = promisify(execFile);

/** Every `filename` member anywhere in the arguments (file-posix children, nested or not). */
export function filenamesIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) filenamesIn(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'filename' && typeof x === 'string') out.push(x);
      else filenamesIn(x, out);
    }
  }
  return out;
}

export interface ProbedImage { file: string; format: string; size: string; backing?: string; 'backing-format'?: string }

/**
 * The catalogue entries (x-blockgraph-image-create arguments) missing for `args`, backing files
 * first. `dir` is where the daemon resolves relative names. Files that do not exist are left
 * out: the model then refuses as QEMU would.
 */
export async function probeImages(state: State, args: unknown, dir: string): Promise<ProbedImage[]> {
  const known = (f: string) => state[HOST]?.images?.[f] !== undefined;
  const out: ProbedImage[] = [];
  const seen = new Set<string>();
  const qemuImg = findExecutable('qemu-img');
  const visit = async (file: string): Promise<void> => {
    if (known(file) || seen.has(file)) return;
    seen.add(file);
    const path = resolve(dir, file);
    if (!qemuImg || !existsSync(path)) return;
    let info: { format: string; 'virtual-size': number; 'backing-filename'?: string; 'backing-filename-format'?: string };
    try {
      // -U: the daemon may hold the image's lock already
      info = JSON.parse((await run(qemuImg, ['info', '-U', '--output=json', path])).stdout);
    } catch {
      return;
    }
    // (qemu-img info names a qed backing's format only where the header has QED_F_BACKING_FORMAT_NO_PROBE)
    const img: ProbedImage = { file, format: info.format === 'qcow2' || info.format === 'qed' ? info.format : 'raw', size: String(info['virtual-size']) };
    if (info['backing-filename']) {
      await visit(info['backing-filename']);
      img.backing = info['backing-filename'];
      if (info['backing-filename-format']) img['backing-format'] = info['backing-filename-format'];
    }
    out.push(img);
  };
  for (const f of filenamesIn(args)) await visit(f);
  return out;
}
