// The qdev properties of the modelled guest devices, with their QAPI types, and how device_add's
// visitor reads each one (object_set_properties_from_keyval → object_property_set → the type's
// setter, hw/core/qdev-properties.c and qdev-properties-system.c). QEMU 7.2 hands the setters a
// keyval visitor over strings (qmp_device_add went through QemuOpts: graph/rules.ts
// device-add-args), 10.0 a QObject input visitor over the JSON values as given; the two answer a
// bad value with different texts, every one of them below taken from qapi/qobject-input-visitor.c.
import { QmpError } from '../../errors/index.js';

/**
 * A property's type, by its setter: `bool` (DEFINE_PROP_BOOL/BIT/BIT64: visit_type_bool), `str`
 * (DEFINE_PROP_STRING, the drive and link properties: visit_type_str), `enum` (qapi_enum_parse
 * over `values`), `uintN`/`int32` (visit_type_uintN / intN: the 64-bit read, then the range),
 * `size32` (set_size32: visit_type_size, at most UINT32_MAX), `blocksize` (set_blocksize:
 * visit_type_size, then check_block_size).
 */
export type PropType =
  | { t: 'bool' } | { t: 'str' } | { t: 'enum'; values: readonly string[] }
  | { t: 'uint'; bits: 8 | 16 | 32 | 64 } | { t: 'int32' } | { t: 'size32' } | { t: 'blocksize' } | { t: 'any' }
  | { t: 'vq-mapping' };

/** One IOThreadVirtQueueMapping (qapi/virtio.json): an iothread and, optionally, its virtqueues. */
export interface VqMapping { iothread: string; vqs?: number[] }

/**
 * virtio-blk's iothread-vq-mapping (DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST, QEMU 9.0; graph/rules.ts
 * virtio-blk-iothread-vq-mapping): set_iothread_vq_mapping_list → visit_type_IOThreadVirtQueueMappingList
 * over the QObject input visitor: a list of structs (iothread: str, vqs: optional [uint16]),
 * unexpected members after each struct's own, full names `NAME[i].member`. An empty list is NULL,
 * as an empty vqs is: both read as absent (null / no vqs).
 */
function readVqMapping(k: string, v: unknown): VqMapping[] | null {
  if (!Array.isArray(v)) throw invalidType(k, 'array');
  const out: VqMapping[] = [];
  v.forEach((el, i) => {
    const at = `${k}[${i}]`;
    if (el === null || typeof el !== 'object' || Array.isArray(el)) throw invalidType(at, 'object');
    const o = el as Record<string, unknown>;
    if (o.iothread === undefined) throw new QmpError(`Parameter '${at}.iothread' is missing`);
    if (typeof o.iothread !== 'string') throw invalidType(`${at}.iothread`, 'string');
    const m: VqMapping = { iothread: o.iothread };
    if (o.vqs !== undefined) {
      if (!Array.isArray(o.vqs)) throw invalidType(`${at}.vqs`, 'array');
      const vqs = o.vqs.map((q, j) => {
        // qobject_input_type_uint64: a QNum that fits uint64, or an int64 taken as one (a negative
        // wraps); then visit_type_uintN's range check names a list element "null" (name is NULL)
        if (typeof q !== 'number' || !Number.isInteger(q)) throw expects(`${at}.vqs[${j}]`, 'uint64');
        if (q < 0 || q > 0xffff) throw expects('null', 'uint16_t');
        return q;
      });
      if (vqs.length) m.vqs = vqs;
    }
    for (const key of Object.keys(o)) if (key !== 'iothread' && key !== 'vqs') throw new QmpError(`Parameter '${at}.${key}' is unexpected`);
    out.push(m);
  });
  return out.length ? out : null;
}

const BOOL: PropType = { t: 'bool' };
const STR: PropType = { t: 'str' };
const U8: PropType = { t: 'uint', bits: 8 };
const U16: PropType = { t: 'uint', bits: 16 };
const U32: PropType = { t: 'uint', bits: 32 };
const U64: PropType = { t: 'uint', bits: 64 };
/** qapi/block-core.json BlockdevOnError (DEFINE_BLOCK_ERROR_PROPERTIES' rerror, werror). */
const ON_ERROR: PropType = { t: 'enum', values: ['report', 'ignore', 'enospc', 'stop', 'auto'] };
/** qapi/common.json OnOffAuto (DEFINE_PROP_ON_OFF_AUTO). */
const ON_OFF_AUTO: PropType = { t: 'enum', values: ['auto', 'on', 'off'] };

/** include/hw/block/block.h DEFINE_BLOCK_PROPERTIES_BASE, DEFINE_BLOCK_ERROR_PROPERTIES, DEFINE_BLOCK_CHS_PROPERTIES. */
const BLOCK_BASE: Record<string, PropType> = {
  backend_defaults: ON_OFF_AUTO, logical_block_size: { t: 'blocksize' }, physical_block_size: { t: 'blocksize' },
  min_io_size: { t: 'size32' }, opt_io_size: { t: 'size32' }, discard_granularity: { t: 'size32' },
  'write-cache': ON_OFF_AUTO, 'share-rw': BOOL, 'account-invalid': ON_OFF_AUTO, 'account-failed': ON_OFF_AUTO,
  drive: STR,
};
const BLOCK_ERROR: Record<string, PropType> = { rerror: ON_ERROR, werror: ON_ERROR };
const BLOCK_CHS: Record<string, PropType> = { cyls: U32, heads: U32, secs: U32, lcyls: U32, lheads: U32, lsecs: U32 };
/** device_add_bootindex_property (instance_init of every modelled kind): visit_type_int32. */
const BOOTINDEX: Record<string, PropType> = { bootindex: { t: 'int32' } };
/** hw/scsi/scsi-bus.c scsi_props. */
const SCSI_BUS: Record<string, PropType> = { channel: U32, 'scsi-id': U32, lun: U32 };
/** hw/scsi/scsi-disk.c DEFINE_SCSI_DISK_PROPERTIES (with DEFINE_PROP_DRIVE_IOTHREAD's drive). */
const SCSI_DISK: Record<string, PropType> = { ...BLOCK_BASE, ...BLOCK_ERROR, ver: STR, serial: STR, vendor: STR, product: STR, device_id: STR };
/** hw/ide/qdev.c DEFINE_IDE_DEV_PROPERTIES and ide_bus_info's unit. */
const IDE_DEV: Record<string, PropType> = { ...BLOCK_BASE, ...BLOCK_ERROR, ver: STR, wwn: U64, serial: STR, model: STR, unit: U32 };

/** hw/usb/bus.c usb_props. */
const USB_DEV: Record<string, PropType> = { port: STR, serial: STR, 'msos-desc': BOOL, pcap: STR };

export const DEVICE_PROPS: Record<string, Record<string, PropType>> = {
  // hw/block/virtio-blk.c virtio_blk_properties (aliased by virtio-blk-pci), and the proxy's addr
  'virtio-blk-pci': {
    ...BLOCK_BASE, ...BLOCK_ERROR, ...BLOCK_CHS, ...BOOTINDEX, serial: STR, 'config-wce': BOOL, scsi: BOOL,
    'request-merging': BOOL, 'num-queues': U16, 'queue-size': U16, 'seg-max-adjust': BOOL, iothread: STR,
    discard: BOOL, 'report-discard-granularity': BOOL, 'write-zeroes': BOOL, 'max-discard-sectors': U32,
    'max-write-zeroes-sectors': U32, 'x-enable-wce-if-config-wce': BOOL, addr: { t: 'any' },
    // QEMU 9.0+ only: device-add.ts asks rule virtio-blk-iothread-vq-mapping before it is known
    'iothread-vq-mapping': { t: 'vq-mapping' },
  },
  // scsi_hd_properties
  'scsi-hd': {
    ...SCSI_BUS, ...SCSI_DISK, ...BOOTINDEX, removable: BOOL, dpofua: BOOL, wwn: U64, port_wwn: U64, port_index: U16,
    max_unmap_size: U64, max_io_size: U64, rotation_rate: U16, scsi_version: { t: 'int32' },
    quirk_mode_page_vendor_specific_apple: BOOL, ...BLOCK_CHS,
  },
  // scsi_cd_properties
  'scsi-cd': {
    ...SCSI_BUS, ...SCSI_DISK, ...BOOTINDEX, wwn: U64, port_wwn: U64, port_index: U16, max_io_size: U64,
    scsi_version: { t: 'int32' }, quirk_mode_page_apple_vendor: BOOL, quirk_mode_sense_rom_use_dbd: BOOL,
    quirk_mode_page_vendor_specific_apple: BOOL, quirk_mode_page_truncated: BOOL,
  },
  // ide_hd_properties, ide_cd_properties
  'ide-hd': { ...IDE_DEV, ...BLOCK_CHS, ...BOOTINDEX, 'bios-chs-trans': STR, rotation_rate: U16 },
  'ide-cd': { ...IDE_DEV, ...BOOTINDEX },
  // scsi_block_properties, scsi_generic_properties (scsi_dev_instance_init adds bootindex to both)
  'scsi-block': {
    ...SCSI_BUS, ...BLOCK_ERROR, ...BOOTINDEX, drive: STR, 'share-rw': BOOL, rotation_rate: U16, max_unmap_size: U64,
    max_io_size: U64, scsi_version: { t: 'int32' }, io_timeout: U32,
  },
  'scsi-generic': { ...SCSI_BUS, ...BOOTINDEX, drive: STR, 'share-rw': BOOL, io_timeout: U32 },
  // hw/block/fdc.c floppy_drive_properties (no error policy, no bootindex: the isa-fdc has those)
  floppy: { unit: U32, ...BLOCK_BASE, 'drive-type': { t: 'enum', values: ['144', '288', '120', 'none', 'auto'] } },
  // hw/nvme/ctrl.c nvme_props (QEMU 7.2's; 10.0's additions are not modelled) with the PCI
  // device's addr, and nvme_instance_init's bootindex; no rerror/werror (not DEFINE_BLOCK_ERROR_PROPERTIES)
  nvme: {
    ...BLOCK_BASE, ...BOOTINDEX, addr: { t: 'any' }, pmrdev: STR, subsys: STR, serial: STR, cmb_size_mb: U32, num_queues: U32,
    max_ioqpairs: U32, msix_qsize: U16, aerl: U8, aer_max_queued: U32, mdts: U8, vsl: U8, 'use-intel-id': BOOL,
    'legacy-cmb': BOOL, ioeventfd: BOOL, 'zoned.zasl': U8, 'zoned.auto_transition': BOOL, sriov_max_vfs: U8,
    sriov_vq_flexible: U16, sriov_vi_flexible: U16, sriov_max_vi_per_vf: U8, sriov_max_vq_per_vf: U8,
  },
  // TYPE_SCSI_DISK's scsi_disk_properties: scsi-hd's (the legacy device usb-storage makes)
  'scsi-disk': {
    ...SCSI_BUS, ...SCSI_DISK, ...BOOTINDEX, removable: BOOL, dpofua: BOOL, wwn: U64, port_wwn: U64, port_index: U16,
    max_unmap_size: U64, max_io_size: U64, rotation_rate: U16, scsi_version: { t: 'int32' }, ...BLOCK_CHS,
  },
  // hw/usb/dev-storage-classic.c msd_properties, usb_msd_instance_init's bootindex, and hw/usb/bus.c usb_props
  'usb-storage': { ...BLOCK_BASE, ...BLOCK_ERROR, ...BOOTINDEX, removable: BOOL, commandlog: BOOL, ...USB_DEV },
  // hw/usb/dev-uas.c uas_properties (log-scsi-req) and usb_props
  'usb-uas': { 'log-scsi-req': BOOL, ...USB_DEV },
  // hw/usb/dev-hub.c usb_hub_properties
  'usb-hub': { ports: U32, 'port-power': BOOL, ...USB_DEV },
  // the controllers (graph/devices/types.ts CONTROLLER_KINDS), with the PCI device's addr:
  // hw/scsi/virtio-scsi.c virtio_scsi_properties and virtio-scsi-pci.c's proxy properties
  'virtio-scsi-pci': {
    addr: { t: 'any' }, iothread: STR, num_queues: U32, virtqueue_size: U32, seg_max_adjust: BOOL, max_sectors: U32,
    cmd_per_lun: U32, hotplug: BOOL, param_change: BOOL, ioeventfd: BOOL, vectors: U32,
  },
  lsi53c895a: { addr: { t: 'any' } },
  // hw/usb/hcd-xhci.c xhci_properties (with hcd-xhci-pci.c's), hcd-ehci-pci.c, hcd-uhci.c
  'qemu-xhci': { addr: { t: 'any' }, streams: BOOL, p2: U32, p3: U32, msi: ON_OFF_AUTO, msix: ON_OFF_AUTO, intrs: U32, slots: U32 },
  'nec-usb-xhci': { addr: { t: 'any' }, streams: BOOL, p2: U32, p3: U32, msi: ON_OFF_AUTO, msix: ON_OFF_AUTO, intrs: U32, slots: U32 },
  'usb-ehci': { addr: { t: 'any' }, maxframes: U32 },
  'ich9-usb-ehci1': { addr: { t: 'any' }, maxframes: U32 },
  'piix3-usb-uhci': { addr: { t: 'any' }, masterbus: STR, firstport: U32, bandwidth: U32, maxframes: U32 },
  // hw/nvme/ns.c nvme_ns_props (the zoned ones left out)
  'nvme-ns': {
    ...BLOCK_BASE, detached: BOOL, shared: BOOL, nsid: U32, uuid: STR, ms: U16, mset: U8, pi: U8, pil: U8, pif: U8,
    mssrl: U16, mcl: U32, msrc: U8, zoned: BOOL,
  },
};

const MIN_BLOCK_SIZE = 512;
const MAX_BLOCK_SIZE = 2 * 1024 * 1024;
const UINT64_MAX = (1n << 64n) - 1n;

/** qemu_strtoi64 / qemu_strtou64 with base 0 (util/cutils.c): the whole string, C's prefixes; the unsigned one wraps a minus sign. */
function strtoInt(s: string, unsigned: boolean): bigint | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const digits = m[2]!;
  const v = digits.startsWith('0x') || digits.startsWith('0X') ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  if (unsigned) {
    if (v > UINT64_MAX) return null;
    return m[1] === '-' ? (v === 0n ? 0n : (1n << 64n) - v) : v;
  }
  const r = m[1] === '-' ? -v : v;
  return r < -(1n << 63n) || r >= 1n << 63n ? null : r;
}

/** qemu_strtosz (util/cutils.c do_strtosz, default suffix B, unit 1024): a fraction only with a suffix other than B. */
function strtosz(s: string): bigint | null {
  const hex = /^\s*0[xX]([0-9a-fA-F]+)([KMGTPEkmgtpe]?)$/.exec(s);
  const m = hex ?? /^\s*([0-9]+)(\.[0-9]+)?([BKMGTPEbkmgtpe]?)$/.exec(s);
  if (!m) return null;
  const suffix = (hex ? m[2] : m[3])!.toUpperCase();
  const mul = 1024n ** BigInt(Math.max(0, 'BKMGTPE'.indexOf(suffix || 'B')));
  if (hex) { const v = BigInt(`0x${m[1]}`) * mul; return v > UINT64_MAX ? null : v; }
  const frac = m[2];
  if (frac && mul === 1n) return null;
  const v = BigInt(m[1]!) * mul + (frac ? BigInt(Math.floor(Number(`0${frac}`) * Number(mul))) : 0n);
  return v > UINT64_MAX ? null : v;
}

const invalidType = (k: string, what: string) => new QmpError(`Invalid parameter type for '${k}', expected: ${what}`);
const expects = (k: string, what: string) => new QmpError(`Parameter '${k}' expects ${what}`);

/**
 * A 64-bit integer as the visitor reads it: 7.2's keyval qobject_input_type_int64_keyval /
 * _uint64_keyval (qemu_strtoi64 / qemu_strtou64, "expects integer") and _size_keyval (qemu_strtosz,
 * "expects size"); 10.0's qobject_input_type_int64 ("Invalid parameter type …, expected: integer")
 * and _uint64, also its type_size (a negative integer accepted and wrapped, "expects uint64").
 */
function read64(k: string, v: unknown, keyval: boolean, kind: 'int' | 'uint' | 'size'): bigint {
  if (keyval) {
    const s = String(v);
    const r = kind === 'size' ? strtosz(s) : strtoInt(s, kind === 'uint');
    if (r === null) throw expects(k, kind === 'size' ? 'size' : 'integer');
    return r;
  }
  const int = typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : null;
  if (kind === 'int') { if (int === null) throw invalidType(k, 'integer'); return int; }
  if (int === null) throw expects(k, 'uint64');
  return int < 0n ? (1n << 64n) + int : int;
}

/**
 * set_pci_devfn (hw/core/qdev-properties-system.c), a PCI device's `addr`: a string is
 * "SLOT[.FN]" in hex (sscanf %x.%x, else %x; nothing may follow, FN at most 7, SLOT at most 31),
 * else an int32 devfn from -1 to 255 (10.0's JSON number; 7.2's QemuOpts make every value a
 * string). -1: unset (do_pci_register_device picks the first free slot).
 */
export function readDevfn(v: unknown, keyval: boolean, typename: string): number {
  const s = keyval ? (typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)) : typeof v === 'string' ? v : undefined;
  if (s === undefined) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new QmpError("Invalid parameter type for 'addr', expected: integer");
    if (v < -1 || v > 255) throw new QmpError("Parameter 'addr' expects a value between -1 and 255");
    return v;
  }
  const hex = '\\s*[+-]?(?:0[xX])?[0-9a-fA-F]+';
  const m = new RegExp(`^(${hex})(?:\\.(${hex}))?$`).exec(s);
  const slot = m ? parseInt(m[1]!.trim(), 16) : NaN;
  const fn = m?.[2] !== undefined ? parseInt(m[2].trim(), 16) : 0;
  if (!m || !(slot >= 0 && slot <= 31) || !(fn >= 0 && fn <= 7)) throw new QmpError(`Property '${typename}.addr' doesn't take value '${s}'`);
  return (slot << 3) | fn;
}

/**
 * One property's value as its setter takes it from device_add (7.2: `keyval`, the QemuOpts
 * string; 10.0: the JSON value). `id` is the device's qdev id as set_blocksize sees it (7.2's
 * check_block_size prints `dev->id ?: ""`; virtio-blk-pci's alias sets it on the unnamed
 * virtio-blk-device), `typename` what set_size32 prints.
 */
export function readProp(k: string, type: PropType, v: unknown, keyval: boolean, id: string, typename: string, blockSizeText: string): unknown {
  switch (type.t) {
    case 'any': return v;
    case 'vq-mapping': return readVqMapping(k, v);
    case 'str':
      if (!keyval && typeof v !== 'string') throw invalidType(k, 'string');
      return String(v);
    case 'bool': {
      if (!keyval) { if (typeof v !== 'boolean') throw invalidType(k, 'boolean'); return v; }
      // qapi_bool_parse
      if (['on', 'yes', 'true', 'y'].includes(String(v))) return true;
      if (['off', 'no', 'false', 'n'].includes(String(v))) return false;
      throw expects(k, "'on' or 'off'");
    }
    case 'enum': {
      // visit_type_enum → input_type_enum: the string, then qapi_enum_parse
      if (!keyval && typeof v !== 'string') throw invalidType(k, 'string');
      const s = String(v);
      if (!type.values.includes(s)) throw new QmpError(`Parameter '${k}' does not accept value '${s}'`);
      return s;
    }
    case 'int32': {
      const r = read64(k, v, keyval, 'int');
      // visit_type_intN
      if (r < -(1n << 31n) || r >= 1n << 31n) throw expects(k, 'int32_t');
      return Number(r);
    }
    case 'uint': {
      const r = read64(k, v, keyval, 'uint');
      // visit_type_uintN
      if (type.bits < 64 && r >= 1n << BigInt(type.bits)) throw expects(k, `uint${type.bits}_t`);
      return type.bits < 64 ? Number(r) : r.toString();
    }
    case 'size32': {
      const r = read64(k, v, keyval, 'size');
      if (r > 0xffffffffn) throw new QmpError(`Property ${typename}.${k} doesn't take value ${r} (maximum: ${0xffffffff})`);
      return Number(r);
    }
    case 'blocksize': {
      const r = read64(k, v, keyval, 'size');
      // check_block_size (util/block-helpers.c); 0 is "unset". Its text: rule check-block-size-text
      const bad = r !== 0n && (r < BigInt(MIN_BLOCK_SIZE) || r > BigInt(MAX_BLOCK_SIZE) || (r & (r - 1n)) !== 0n);
      if (bad && blockSizeText === 'parameter') {
        throw new QmpError(`parameter ${k} must be a power of 2 between ${MIN_BLOCK_SIZE} and ${MAX_BLOCK_SIZE}`);
      }
      // 7.2 prints the value as int64_t (PRId64)
      const signed = r >= 1n << 63n ? r - (1n << 64n) : r;
      if (r !== 0n && (signed < BigInt(MIN_BLOCK_SIZE) || signed > BigInt(MAX_BLOCK_SIZE))) {
        throw new QmpError(`Property ${id}.${k} doesn't take value ${signed} (minimum: ${MIN_BLOCK_SIZE}, maximum: ${MAX_BLOCK_SIZE})`);
      }
      if ((r & (r - 1n)) !== 0n) throw new QmpError(`Property ${id}.${k} doesn't take value '${signed}', it's not a power of 2`);
      return Number(r);
    }
  }
}
