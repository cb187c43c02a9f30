import { QmpError } from '../errors/index.js';
import type { CommandDef } from './types.js';
import { setThrottleGroupProps } from './throttle-group.js';

/** object-add for the two QOM types block graphs use: iothread and throttle-group. */
export const objectAdd: CommandDef = {
  name: 'object-add',
  mutates: true,
  run({ p, args }) {
    const id = String(args.id);
    const qomType = String(args['qom-type']);
    const { id: _i, 'qom-type': _t, ...props } = args;
    // user_creatable_add_type: properties are set first, then the object joins /objects
    // (duplicate id), then .complete runs
    const complete = qomType === 'throttle-group' ? setThrottleGroupProps(props) : () => undefined;
    if (p.object(id)) throw new QmpError(`attempt to add duplicate property '${id}' to object (type 'container')`);
    complete();
    p.putObject({ id, qomType, props });
    return {};
  },
};

export const objectDel: CommandDef = {
  name: 'object-del',
  mutates: true,
  run({ p, args }) {
    const id = String(args.id);
    const o = p.object(id);
    if (!o) throw new QmpError(`object '${id}' not found`);
    const inUse =
      (o.qomType === 'throttle-group' && p.nodes().some((n) => n.driver === 'throttle' && (n.extra as { group?: string })?.group === id)) ||
      (o.qomType === 'iothread' && false);
    if (inUse) throw new QmpError(`object '${id}' is in use, can not be deleted`);
    p.delObject(id);
    return {};
  },
};
