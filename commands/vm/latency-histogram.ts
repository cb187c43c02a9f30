// block-latency-histogram-set (vm target), as block/qapi-sysemu.c qmp_block_latency_histogram_set
// and block/accounting.c block_latency_histogram_set. A VM-only command (qapi/block.json): QSD
// answers CommandNotFound. The histograms are I/O statistics of the device's BlockBackend
// (blk_get_stats), which no transcript compares and no guest fills here: the command's whole
// observable behaviour is its argument checks, the lookup and the boundaries' checks, so it keeps
// no state (query-blockstats lists no `*_latency_histogram`).
import { QmpError } from '../../errors/index.js';
import type { CommandDef } from '../types.js';
import { getBlk } from './media.js';
import { rule } from '../../graph/rules.js';
import type { BlockBackend } from '../../graph/types.js';

type HistKind = 'read' | 'write' | 'zone_append' | 'flush';

/** BlockLatencyHistogramSet's lists in schema order; 10.0's has boundaries-zap (zone append, since 8.1) before flush. */
const LISTS = ['boundaries', 'boundaries-read', 'boundaries-write', 'boundaries-zap', 'boundaries-flush'] as const;
const UINT64_SPAN = 1n << 64n;

/**
 * qobject_input_type_uint64 on each element: a number that is a uint64, or an int64 taken modulo
 * 2^64 ("Need to accept negative values for backward compatibility"); anything else is
 * "Parameter 'NAME[i]' expects uint64". A member that is not a list: "expected: array".
 */
function uint64List(name: string, v: unknown): bigint[] {
  if (!Array.isArray(v)) throw new QmpError(`Invalid parameter type for '${name}', expected: array`);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x >= 2 ** 64 || x < -(2 ** 63)) {
      throw new QmpError(`Parameter '${name}[${i}]' expects uint64`);
    }
    const b = BigInt(x);
    return b < 0n ? b + UINT64_SPAN : b;
  });
}

/** block_latency_histogram_set: every boundary strictly above the previous one, the first above 0 (else -EINVAL). */
function ascending(list: bigint[]): boolean {
  let prev = 0n;
  for (const b of list) {
    if (b <= prev) return false;
    prev = b;
  }
  return true;
}

export const blockLatencyHistogramSet: CommandDef = {
  name: 'block-latency-histogram-set',
  mutates: true,
  run({ p, args }) {
    // the QAPI visit: `id` (required str), then the optional uint64 lists, then leftovers
    if (args.id === undefined) throw new QmpError("Parameter 'id' is missing");
    if (typeof args.id !== 'string') throw new QmpError("Invalid parameter type for 'id', expected: string");
    const ten = rule(p, 'qapi-schema') === '10.0';
    const known = LISTS.filter((k) => ten || k !== 'boundaries-zap');
    const lists: Partial<Record<(typeof LISTS)[number], bigint[]>> = {};
    for (const k of known) if (args[k] !== undefined) lists[k] = uint64List(k, args[k]);
    for (const k of Object.keys(args)) {
      if (k !== 'id' && !(known as readonly string[]).includes(k)) throw new QmpError(`Parameter '${k}' is unexpected`);
    }
    const id = args.id;
    // qmp_get_blk(NULL, id): blk_by_qdev_id (find_device_state, blk_by_dev); no medium check
    const { bb } = getBlk(p, undefined, id);
    // no list at all: block_latency_histograms_clear; otherwise read, write (10.0: zone append),
    // flush in turn, each from its own list or the common one, the first that fails naming the device
    const each: [HistKind, bigint[] | undefined][] = [
      ['read', lists['boundaries-read'] ?? lists.boundaries],
      ['write', lists['boundaries-write'] ?? lists.boundaries],
      ...(ten ? [['zone_append', lists['boundaries-zap'] ?? lists.boundaries] as [HistKind, bigint[] | undefined]] : []),
      ['flush', lists['boundaries-flush'] ?? lists.boundaries],
    ];
    for (const [what, list] of each) {
      if (list && !ascending(list)) throw new QmpError(`Device '${id}' set ${what === 'zone_append' ? 'append write' : what} boundaries fail`);
    }
    // each list given replaces that kind's histogram (block_latency_histogram_set), the others
    // stay. (QEMU sets the kinds before a failing one; the model refuses the whole command first.)
    const b = p.bb(bb)!;
    const none = each.every(([, l]) => l === undefined);
    const hist: NonNullable<BlockBackend['histograms']> = none ? {} : { ...(b.histograms ?? {}) };
    for (const [what, list] of each) if (list) hist[what] = list.map((x) => Number(x));
    p.step('block-latency-histogram-set');
    const { histograms: _h, ...rest } = b;
    p.putBB(Object.keys(hist).length ? { ...rest, histograms: hist } : rest);
    return {};
  },
};

/**
 * query-pr-managers (scsi/pr-manager.c qmp_query_pr_managers): every pr-manager object under
 * /objects with whether its helper is connected. The model creates no pr-manager-helper (it needs
 * a helper process's socket), so the list is empty.
 */
export const queryPrManagers: CommandDef = {
  name: 'query-pr-managers',
  mutates: false,
  run({ args }) {
    for (const k of Object.keys(args)) throw new QmpError(`Parameter '${k}' is unexpected`);
    return [];
  },
};
