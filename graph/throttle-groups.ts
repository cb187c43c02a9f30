// The ThrottleGroup registry (block/throttle-groups.c, QEMU 7.2): one list, `throttle_groups`, of
// named groups, whoever made them. A throttle-group object joins it at completion
// (throttle_group_obj_complete); a BlockBackend throttled by block_set_io_throttle joins one by
// name through throttle_group_register_tgm -> throttle_group_incref, which creates an anonymous
// group (not in /objects) when none has the name; a throttle filter node takes a reference to an
// existing one (throttle_configure_tgm). A group lives while anything holds it: so a group a
// BlockBackend made satisfies a throttle node's `throttle-group`, refuses an object-add of that
// id ("A group with this name already exists"), and an object's group with a BlockBackend or a
// node in it cannot be deleted (throttle_group_can_be_deleted: ref == 1).
import type { Proc } from './proc.js';
import type { BlockBackend } from './types.js';

/** The group a BlockBackend's throttling is in (block_set_io_throttle), if any. */
export function bbThrottleGroup(b: BlockBackend): string | undefined {
  const g = (b.throttle as { group?: unknown } | undefined)?.group;
  return typeof g === 'string' ? g : undefined;
}

/** A throttle filter node's group. */
const nodeGroup = (extra: unknown): string | undefined => {
  const g = (extra as { group?: unknown } | undefined)?.group;
  return typeof g === 'string' ? g : undefined;
};

/** What holds the group `name` besides its object: throttle nodes and BlockBackends in it. */
export function throttleGroupUsers(p: Proc, name: string): { nodes: string[]; bbs: string[] } {
  return {
    nodes: p.nodes().filter((n) => n.driver === 'throttle' && nodeGroup(n.extra) === name).map((n) => n.name),
    bbs: p.bbs().filter((b) => bbThrottleGroup(b) === name).map((b) => b.id),
  };
}

/** throttle_group_exists: a throttle-group object of that id, or a group something still holds. */
export function throttleGroupExists(p: Proc, name: string): boolean {
  if (p.object(name)?.qomType === 'throttle-group') return true;
  const u = throttleGroupUsers(p, name);
  return u.nodes.length > 0 || u.bbs.length > 0;
}
