// `--fleet nats://HOST:PORT/FLEET --host NAME` on the read commands: the host's log in the fleet
// stream stands in for --db. Added to the commands after they are registered, so each command's
// own file stays as it is; `audit --fleet` without --host is the fleet audit (fleet-audit.ts).
import type { Command } from 'commander';
import { BlockgraphError } from '../errors/index.js';
import { checkToken, parseNatsUrl } from '../store/jetstream/url.js';

export const FLEET_READ_COMMANDS = ['audit', 'tail', 'log', 'show', 'history', 'diff', 'replay', 'report'];

/** nats://…/FLEET + HOST -> the host's store URL. */
function hostUrl(fleet: string, host: string): string {
  const u = parseNatsUrl(fleet, { fleet: true });
  if (u.host !== undefined) throw new BlockgraphError('BG_BAD_INPUT', `--fleet names the fleet only (nats://HOST:PORT/FLEET); give the host with --host`);
  return `nats://${u.servers.join(',')}/${u.fleet}/${checkToken('host', host)}${u.store === 'log' ? '' : `/${u.store}`}`;
}

export function registerFleetOptions(program: Command): void {
  for (const cmd of program.commands) {
    if (!FLEET_READ_COMMANDS.includes(cmd.name())) continue;
    cmd.option('--fleet <url>', 'read from the fleet stream: nats://HOST:PORT[,HOST:PORT]/FLEET (with --host; audit without --host merges every host by time)')
      .option('--host <name>', 'the host whose log to read (with --fleet)');
    cmd.hook('preAction', (c) => {
      const o = c.opts<{ fleet?: string; host?: string; connect?: string }>();
      if (o.host !== undefined && o.fleet === undefined) throw new BlockgraphError('BG_BAD_INPUT', '--host needs --fleet nats://HOST:PORT/FLEET');
      if (o.fleet === undefined) return;
      if (o.host !== undefined) c.setOptionValue('db', hostUrl(o.fleet, o.host));
      else if (c.name() === 'audit') parseNatsUrl(o.fleet, { fleet: true });
      else throw new BlockgraphError('BG_BAD_INPUT', `${c.name()} --fleet needs --host NAME (only audit merges the whole fleet)`);
    });
  }
}
