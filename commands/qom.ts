// qom-get and qom-set (qom/qom-qmp-cmds.c qmp_qom_get / qmp_qom_set) on the user-created objects
// the model keeps: object_resolve_path finds /objects/ID, or ID as a partial path; nothing found
// is DeviceNotFound ("Device '%s' not found"). A throttle-group's properties (block/throttle-groups.c):
// `limits` reads the live config (throttle_group_get_limits) and sets members of it in one go
// (throttle_group_set_limits: throttle_limits_to_config validates, a failure changes nothing);
// the `x-` properties read fine but refuse a set once the object is complete ("Property cannot be
// set after initialization"); another name is "Property 'throttle-group.NAME' not found"
// (object_property_find_err). Other paths (the QOM tree beyond /objects) and other object types
// are refused as not modelled, as before.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import type { QomObject } from '../graph/types.js';
import { checkLimitsSet, limitsOf, LIMIT_NAMES } from './throttle-group.js';
import type { CommandDef } from './types.js';

const notModelled = (name: string) => new QmpError(`blockgraph: ${name} is not modelled (qemu-storage-daemon 7.2 has it; see docs/qmp.md)`);

const setsOf = (o: QomObject): Record<string, unknown>[] => o.limitSets ?? [];
const addProps = (o: QomObject): Record<string, unknown> => o.props;

/** object_resolve_path for the objects the model keeps; undefined: not found among them. */
function resolve(p: Proc, path: string, cmd: string): QomObject | undefined {
  const id = path.startsWith('/objects/') ? path.slice('/objects/'.length) : path.includes('/') ? null : path;
  if (id === null || id === '') throw notModelled(cmd);
  const o = p.object(id);
  if (!o) {
    // the daemon's other QOM children (containers, chardevs) resolve too: not modelled
    if (['objects', 'chardevs', 'machine'].includes(id)) throw notModelled(cmd);
    throw new QmpError(`Device '${path}' not found`, 'DeviceNotFound');
  }
  if (o.qomType !== 'throttle-group') throw notModelled(cmd);
  return o;
}

/** object_property_find_err over a throttle-group's properties: 'limits', the x- ones, 'type'. */
function findProperty(name: string): 'limits' | 'x' | 'type' {
  if (name === 'limits') return 'limits';
  if (name === 'type') return 'type';
  if (name.startsWith('x-') && LIMIT_NAMES.includes(name.slice(2))) return 'x';
  throw new QmpError(`Property 'throttle-group.${name}' not found`);
}

export const qomGet: CommandDef = {
  name: 'qom-get',
  mutates: false,
  run({ p, args }) {
    const o = resolve(p, String(args.path), 'qom-get');
    if (!o) return {};
    const kind = findProperty(String(args.property));
    if (kind === 'type') return 'throttle-group';
    const limits = limitsOf(addProps(o), setsOf(o), o.config);
    return kind === 'limits' ? limits : limits[String(args.property).slice(2)] ?? 0;
  },
};

export const qomSet: CommandDef = {
  name: 'qom-set',
  mutates: true,
  run({ p, args }) {
    const o = resolve(p, String(args.path), 'qom-set');
    if (!o) return {};
    const kind = findProperty(String(args.property));
    if (kind === 'x') throw new QmpError('Property cannot be set after initialization');
    // object_property_set of 'type' (a read-only property): not modelled
    if (kind === 'type') throw notModelled('qom-set');
    const v = args.value;
    // visit_type_ThrottleLimits: only well-formed structs of integers are modelled
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw notModelled('qom-set');
    const lim = v as Record<string, unknown>;
    if (Object.entries(lim).some(([k, x]) => !LIMIT_NAMES.includes(k) || typeof x !== 'number' || !Number.isInteger(x))) throw notModelled('qom-set');
    checkLimitsSet(addProps(o), setsOf(o), lim, o.config);
    p.putObject({ ...o, limitSets: [...setsOf(o), lim] });
    return {};
  },
};
