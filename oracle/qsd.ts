// The real peer: qemu-storage-daemon with its monitor on stdio, run in the scenario's temp dir
// so that the relative file names of the scenarios resolve there, plus image creation with
// qemu-img / qemu-io as the README prescribes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Transform } from 'node:stream';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BlockgraphError } from '../errors/index.js';
import type { ImageSpec, Scenario } from './format.js';
import { setupImages } from './harness.js';
import { QmpWireClient } from '../qmp/wire.js';
import { trackChild } from './temp-dirs.js';

const run = promisify(execFile);

/** The absolute path of `bin` on PATH, or undefined. */
export function findExecutable(bin: string): string | undefined {
  if (bin.includes('/')) return bin;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

const QSD = 'qemu-storage-daemon';
export const qsdAvailable = (): boolean => findExecutable(process.env.BLOCKGRAPH_QSD ?? QSD) !== undefined;

function requireExecutable(bin: string, pkg: string): string {
  const p = findExecutable(bin);
  if (!p) {
    throw new BlockgraphError('BG_UNSUPPORTED',
      `${bin} is not installed (Debian: apt-get install -y ${pkg}); the oracle needs it to record against real QEMU`, { bin });
  }
  return p;
}

export interface SpawnQsdOptions {
  /** Binary to run; `BLOCKGRAPH_QSD` or `qemu-storage-daemon` on PATH by default. */
  bin?: string;
  /** Label for error messages (the scenario's proc letter). */
  label?: string;
}

/** A QMP connection to a fresh daemon; `close()` ends the daemon. */
export interface QsdConnection extends QmpWireClient {
  readonly pid: number;
  /** What the daemon wrote to stderr so far (assertion texts when it aborts). */
  stderr(): string;
}

/**
 * The monitor shares stdout with bdrv_img_create's progress line ("Formatting 'FILE', fmt=…"),
 * which blockdev-snapshot-sync prints for the image it creates (quiet = false); it is not QMP.
 */
function dropImageCreateLines(): Transform {
  let rest = '';
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      const kept = lines.filter((l) => !l.startsWith("Formatting '"));
      done(null, kept.length ? kept.join('\n') + '\n' : undefined);
    },
    flush(done) {
      done(null, rest && !rest.startsWith("Formatting '") ? rest : undefined);
    },
  });
}

export async function spawnQsd(dir: string, opts: SpawnQsdOptions = {}): Promise<QsdConnection> {
  const bin = requireExecutable(opts.bin ?? process.env.BLOCKGRAPH_QSD ?? QSD, 'qemu-system-common');
  const label = `qemu-storage-daemon ${opts.label ?? ''}`.trim();
  const child = spawn(bin, ['--chardev', 'stdio,id=m', '--monitor', 'chardev=m'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  // QEMU does not exit when the monitor's stdin closes: a run's exit cleanup must end it
  trackChild(child, dir);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => { stderr += s; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closing = false;
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(
    new BlockgraphError('BG_UNSUPPORTED', `cannot start ${bin}: ${e.message}`, { bin }))));
  const client = new QmpWireClient(child.stdout.pipe(dropImageCreateLines()), child.stdin, {
    label,
    onClose: () => {
      // a daemon that dies on its own is a QEMU abort the recording must not hide
      if (!closing) process.nextTick(() => child.kill('SIGKILL'));
    },
  });
  child.once('exit', (code, signal) => {
    if (!closing) {
      client.abort(new BlockgraphError('BG_QMP_ERROR',
        `${label} died (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-500)}`, { code, signal }));
    }
  });
  spawnError.catch(() => undefined);
  try {
    await Promise.race([client.ready(), spawnError]);
  } catch (e) {
    // a daemon that never greeted is nobody's to close: end it here, before its directory goes
    closing = true;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw e;
  }
  const conn = client as QsdConnection;
  Object.defineProperty(conn, 'pid', { value: child.pid });
  conn.stderr = () => stderr;
  closeEndsProcess(conn, child, exited, () => { closing = true; });
  return conn;
}

/**
 * The connection's close also ends its QEMU process (SIGTERM, SIGKILL after 5 s) and waits for
 * it; `onClosing` runs first, so the process's exit is not taken for a death.
 */
export function closeEndsProcess(conn: QsdConnection, child: ChildProcess, exited: Promise<void>, onClosing: () => void): void {
  const baseClose = conn.close.bind(conn);
  conn.close = async () => {
    onClosing();
    // the process is ended even when closing the wire fails (it was swallowed by
    // ScenarioRecorder.close, and the daemon then outlived its case in a removed directory)
    try {
      await baseClose();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
}

/** `qemu-img create` and, for `data`, `qemu-io write -P` (pattern 90 unless given), in `dir`. */
export async function createImageWithQemuImg(image: ImageSpec, dir: string, bins: { img: string; io: string } = { img: 'qemu-img', io: 'qemu-io' }): Promise<void> {
  const qemuImg = requireExecutable(bins.img, 'qemu-utils');
  if (image.file.includes('/')) mkdirSync(join(dir, dirname(image.file)), { recursive: true });
  const args = ['create', '-q', '-f', image.format];
  if (image.backing !== undefined) {
    args.push('-b', image.backing);
    if (image['backing-format'] !== undefined) args.push('-F', image['backing-format']);
  }
  // an encrypted image: the passphrase as a secret object, named by the format's key-secret option
  const secretObj = image.secret !== undefined ? [`secret,id=imgsec0,data=${image.secret}`] : [];
  const keyOpt = image.secret === undefined ? undefined : image.format === 'luks' ? 'key-secret=imgsec0' : 'encrypt.key-secret=imgsec0';
  const options = [image.options, keyOpt].filter((o) => o !== undefined).join(',');
  if (secretObj.length) args.push('--object', secretObj[0]!);
  if (options !== '') args.push('-o', options);
  args.push(image.file, image.size);
  await runRetryingPbkdf(qemuImg, args, dir, image.secret !== undefined);
  if (image.data?.length) {
    const qemuIo = requireExecutable(bins.io, 'qemu-utils');
    const cmds = image.data.flatMap((r) => ['-c', `write -P ${r.pattern ?? 90} ${r.offset} ${r.length}`]);
    // qemu-io opens an encrypted image through --image-opts with the same secret
    const target = image.secret === undefined ? ['-f', image.format, image.file]
      : ['--object', secretObj[0]!, '--image-opts', image.format === 'luks'
        ? `driver=luks,key-secret=imgsec0,file.filename=${image.file}`
        : `driver=qcow2,encrypt.key-secret=imgsec0,file.filename=${image.file}`];
    await run(qemuIo, [...cmds, ...target], { cwd: dir });
  }
}

/**
 * Debian's QEMU 7.2 qcrypto_pbkdf2_count_iters fails "Unable to get accurate CPU usage" when its
 * PBKDF benchmark measures 0 ms of thread CPU time (a fast or loaded host): qemu-img create of an
 * encrypted image then fails at random. The image's bytes are not part of a transcript (the
 * iteration count the benchmark picks is its only difference), so the set-up tries again, on
 * exactly that error, up to 20 times.
 */
async function runRetryingPbkdf(cmd: string, args: string[], dir: string, encrypted: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(cmd, args, { cwd: dir });
      return;
    } catch (e) {
      if (!encrypted || attempt >= 20 || !/Unable to get accurate CPU usage/.test(String((e as Error)?.message ?? e))) throw e;
    }
  }
}

export function createImagesWithQemuImg(scenario: Scenario, dir: string, bins?: { img: string; io: string }): Promise<void> {
  return setupImages(scenario, dir, (image, d) => createImageWithQemuImg(image, d, bins));
}
