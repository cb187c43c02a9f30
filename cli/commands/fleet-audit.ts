// `blockgraph audit --fleet nats://HOST:PORT/FLEET` (no --host): every host's audit, merged by time.
import { auditRows, argsText, filterAudit, outcomeText, type AuditFilter } from '../../replay/audit.js';
import { mergeFleetAudit } from '../../replay/fleet-audit.js';
import { forEachHost } from '../../store/jetstream/index.js';
import { printJson, table } from '../context.js';

export async function fleetAudit(fleetUrl: string, filter: AuditFilter, json: boolean): Promise<void> {
  const perHost = await forEachHost(fleetUrl, async (_host, log) => filterAudit(auditRows(await log.readAll()), filter));
  const rows = mergeFleetAudit(perHost.map(({ host, result }) => ({ host, rows: result })));
  if (json) return printJson(rows);
  console.log(table(rows.map((r) => [
    r.at.replace('T', ' ').slice(0, 23), r.host, String(r.seq), r.proc, r.txn ?? '', r.kind,
    `${r.command} ${argsText(r.args, 60)}`.trim(), outcomeText(r),
  ]), ['time', 'host', 'seq', 'proc', 'txn', 'kind', 'command', 'outcome']));
}
