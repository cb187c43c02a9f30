// The `vm` target's real peer (issue 17): qemu-system-x86_64, q35, paused (-S), no guest, no
// default devices, its QMP monitor on a unix socket, the scenario's machine (`vm` member) on its
// command line. Run in the scenario's temp dir so relative image names resolve there.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';
import { connectUnixSocket } from '../qmp/wire.js';
import type { VmSpec } from './format.js';
import { closeEndsProcess, findExecutable, type QsdConnection } from './qsd.js';
import { findQemuBinaries, vmMissing, type QemuBinaries } from './qemu-bins.js';
import { trackChild } from './temp-dirs.js';
import { VmStartRefused } from './start-refused.js';
import type { QemuVersion } from '../graph/version.js';

const VM_BIN = 'qemu-system-x86_64';
/** Whether the VM of `v` (default the system's 7.2) can run here. */
export const vmAvailable = (v: QemuVersion = '7.2'): boolean =>
  (v === '7.2' ? findExecutable(process.env.BLOCKGRAPH_QEMU_SYSTEM ?? VM_BIN) !== undefined : vmMissing(v) === undefined);
/** Why the VM of `v` cannot run here (what a skipped spec or a refused command says). */
export const vmUnavailableReason = (v: QemuVersion = '7.2'): string =>
  (v === '7.2' ? `${VM_BIN} is not installed (Debian: apt-get install -y qemu-system-x86)` : vmMissing(v) ?? '');

/**
 * The fixed part of the command line. ACPI PCI hotplug is off so that the pcie-root-ports use
 * native PCIe hotplug, which completes a `device_del` at once without a guest (with ACPI hotplug
 * it would wait forever for the guest's eject). A machine with `acpi-pci-hotplug: true` (libvirt's
 * q35) keeps QEMU's default instead: `vmBaseArgs`.
 */
export const VM_BASE_ARGS = [
  '-M', 'q35', '-accel', 'tcg', '-S', '-nodefaults', '-display', 'none', '-m', '64',
  '-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
] as const;

/**
 * VM_BASE_ARGS for `vm`: without the -global that turns ACPI PCI hotplug off when the machine keeps
 * it; a pc machine (i440fx) has no ICH9-LPC, and runs without ACPI when its `acpi` is false
 * (libvirt's -no-acpi).
 */
export function vmBaseArgs(vm: VmSpec): string[] {
  const a: string[] = [...VM_BASE_ARGS];
  // i440fx: no ICH9-LPC to configure; its root bus keeps ACPI hotplug (PIIX4_PM acpi-root-pci-hotplug)
  // unless the machine runs without ACPI as libvirt's -no-acpi does
  if (vm.machine === 'pc') { a[a.indexOf('q35')] = vm.acpi === false ? 'pc,acpi=off' : 'pc'; a.splice(a.indexOf('-global'), 2); return a; }
  if (vm['acpi-pci-hotplug'] === true) a.splice(a.indexOf('-global'), 2);
  return a;
}

/** The machine part of the command line, from the scenario's `vm` member. */
export function vmArgs(vm: VmSpec): string[] {
  const a: string[] = [];
  for (const io of vm.iothreads ?? []) a.push('-object', `iothread,id=${io}`);
  for (const o of vm.objects ?? []) a.push('-object', o);
  if (vm['machine-options'] !== undefined) a.push('-machine', vm['machine-options']);
  (vm['root-ports'] ?? []).forEach((id, i) => a.push('-device', `pcie-root-port,id=${id},bus=pcie.0,chassis=${i + 1}`));
  for (const c of vm['scsi-controllers'] ?? []) {
    a.push('-device', JSON.stringify({ driver: 'virtio-scsi-pci', id: c.id, bus: vm.machine === 'pc' ? 'pci.0' : 'pcie.0', ...(c.iothread ? { iothread: c.iothread } : {}) }));
  }
  for (const b of vm.blockdevs ?? []) a.push('-blockdev', JSON.stringify(b));
  // -drive as given: configure_blockdev opens them after every -blockdev, whatever the order here
  for (const d of vm.drives ?? []) a.push('-drive', d);
  for (const d of vm.devices ?? []) a.push('-device', JSON.stringify(d));
  // a migration destination waiting for migrate-incoming
  if (vm.incoming === true) a.push('-incoming', 'defer');
  return a;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `BIN --version`'s "QEMU emulator version 7.2.22 (Debian …)" as query-version's `qemu` member is written. */
function binVersion(bin: string, env: NodeJS.ProcessEnv): string {
  const out = execFileSync(bin, ['--version'], { env, encoding: 'utf8' });
  const m = /QEMU emulator version (\S+)(?: \((.*)\))?/.exec(out);
  return m ? (m[2] ? `${m[1]} (${m[2]})` : m[1]!) : 'unknown';
}

/**
 * Starts the VM. `bins` chooses the QEMU (default the system's 7.2): 10.0's runs with `-L` of its
 * own data directories and its own module directory (oracle/qemu-bins.ts), so that nothing of the
 * system's 7.2 packages is read.
 */
export async function spawnVm(dir: string, vm: VmSpec, opts: { bin?: string; bins?: QemuBinaries; label?: string } = {}): Promise<QsdConnection> {
  const version = opts.bins?.version ?? '7.2';
  const bins = opts.bins ?? findQemuBinaries('7.2')!;
  if (!opts.bin && !bins.vm) throw new BlockgraphError('BG_UNSUPPORTED', vmUnavailableReason(version), { version });
  const bin = findExecutable(opts.bin ?? bins.vm!);
  if (!bin) {
    throw new BlockgraphError('BG_UNSUPPORTED',
      `${VM_BIN} is not installed (Debian: apt-get install -y qemu-system-x86); the vm target records against it`, { bin: VM_BIN });
  }
  const label = `${VM_BIN} ${opts.label ?? ''}`.trim();
  const sock = join(dir, `qmp-${opts.label ?? 'A'}.sock`);
  const dataDirs = (bins.vmDataDirs ?? []).flatMap((d) => ['-L', d]);
  // TMPDIR: a drive's snapshot=on makes its temporary overlay there (get_tmp_filename /
  // create_tmp_file), inside the scenario's directory and gone with it (oracle/normalize.ts)
  const env = { ...process.env, TMPDIR: dir, ...(bins.vmModuleDir ? { QEMU_MODULE_DIR: bins.vmModuleDir } : {}) };
  const child = spawn(bin, [...dataDirs, ...vmBaseArgs(vm), '-qmp', `unix:${sock},server=on,wait=off`, ...vmArgs(vm)],
    { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  // a VM whose run died lives on (nothing closes its QMP socket): the exit cleanup ends it
  trackChild(child, dir);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => { stderr += s; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes once stderr is read to its end: the whole of QEMU's complaint
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // QEMU exited by itself before its monitor answered: it refused the command line
  const refusedStart = async (): Promise<Error | undefined> => {
    await Promise.race([closed, sleep(2000)]);
    if (child.exitCode === null || child.signalCode !== null) return gone;
    return new VmStartRefused(child.exitCode, stderr, binVersion(bin, env));
  };
  let gone: Error | undefined;
  child.once('error', (e) => { gone = new BlockgraphError('BG_UNSUPPORTED', `cannot start ${bin}: ${e.message}`, { bin }); });
  child.once('exit', (code, signal) => {
    gone ??= new BlockgraphError('BG_QMP_ERROR', `${label} died (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-500)}`, { code, signal });
  });
  // the socket is up in ~30 ms; a bad command line makes QEMU exit with its reason on stderr
  for (let i = 0; !existsSync(sock); i++) {
    if (gone) throw (await refusedStart()) ?? gone;
    if (i > 500) { child.kill('SIGKILL'); await exited; throw new BlockgraphError('BG_QMP_ERROR', `${label}: no QMP socket after 10 s`); }
    await sleep(20);
  }
  let closing = false;
  let client: Awaited<ReturnType<typeof connectUnixSocket>> | undefined;
  for (let attempt = 0; !client; attempt++) {
    try {
      client = await connectUnixSocket(sock, {
        label,
        onClose: () => { if (!closing) process.nextTick(() => child.kill('SIGKILL')); },
      });
    } catch (e) {
      // the socket file exists from bind(), before listen(): a loaded machine can refuse us in
      // between; and it is created before the machine, so a device QEMU refuses exits right here
      const refused = (e as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      if (refused && attempt < 100 && !gone) { await sleep(50); if (!gone) continue; }
      await Promise.race([exited, sleep(2000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      else if (gone) throw (await refusedStart()) ?? gone;
      throw gone ?? e;
    }
  }
  child.once('exit', () => {
    if (!closing) client.abort(gone ?? new BlockgraphError('BG_QMP_ERROR', `${label} died`));
  });
  const conn = client as QsdConnection;
  Object.defineProperty(conn, 'pid', { value: child.pid });
  conn.stderr = () => stderr;
  // a QEMU that aborts resets the socket before its exit is seen: report the death and its stderr
  const baseExecute = client.execute.bind(client);
  conn.execute = async (...a: Parameters<typeof baseExecute>) => {
    try {
      return await baseExecute(...a);
    } catch (e) {
      if (!closing) {
        await Promise.race([exited, sleep(2000)]);
        if (gone) throw gone;
      }
      throw e;
    }
  };
  closeEndsProcess(conn, child, exited, () => { closing = true; });
  return conn;
}
