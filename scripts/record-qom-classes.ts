// Records what a qemu-system-x86_64 (q35, paused, -nodefaults, as the vm recorder starts it) knows
// of its QOM classes, for the vm target's device-list-properties and qom-list-properties
// (commands/vm/qom-classes.ts): every type name with its abstract and device flags (qom-list-types,
// which loads every module first: module_load_qom_all), and the two answers for the block device
// classes, their controllers and their abstract parents. The model has no mechanism for a class's
// property list (QOM builds it from class_init, instance_init and every parent's); it looks names
// up, refuses as qmp_device_list_properties / qmp_qom_list_properties do, and answers the
// recorded list.
//
//   node --import tsx scripts/record-qom-classes.ts --qemu 7.2 [--check]
//   unshare -m sh -c 'mount --bind "$(mktemp -d)" /usr/lib/x86_64-linux-gnu/qemu &&
//     BLOCKGRAPH_QEMU_10_0_DIR=... node --import tsx scripts/record-qom-classes.ts --qemu 10.0'
//
// 10.0.2 searches its compiled-in module directory after QEMU_MODULE_DIR: on a host with the
// system's 7.2 modules there, qom-list-types (and a lookup of an unknown type name) loads a 7.2
// module and aborts ("Only modules from the same build can be loaded", module_load_dso's
// assertion); the private mount hides them from that one process. `--check` records and compares
// with graph/devices/qom-classes.ts instead of writing it (exit 1 on a difference).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordQomClasses } from '../oracle/qom-classes.js';
import type { QemuVersion } from '../graph/version.js';

const argv = process.argv.slice(2);
const version = (argv[argv.indexOf('--qemu') + 1] ?? '7.2') as QemuVersion;
const check = argv.includes('--check');
const OUT = join(import.meta.dirname, '..', 'graph', 'devices', 'qom-classes.ts');

const rec = await recordQomClasses(version);
const text = readFileSync(OUT, 'utf8');
const line = `  '${version}': JSON.parse(${JSON.stringify(JSON.stringify(rec))}),`;
const re = new RegExp(`^  '${version.replace('.', '\\.')}': JSON\\.parse\\(.*\\),$`, 'm');
if (!re.test(text)) throw new Error(`${OUT} has no line for ${version}`);
const next = text.replace(re, () => line);
if (check) {
  if (next !== text) { console.error(`record-qom-classes: ${version} differs from ${OUT}`); process.exit(1); }
  console.log(`record-qom-classes: ${version} identical`);
} else {
  writeFileSync(OUT, next);
  console.log(`record-qom-classes: ${version} written (${Object.keys((rec as { types: object }).types).length} types)`);
}
