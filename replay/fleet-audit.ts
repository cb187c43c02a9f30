// The fleet's audit: every host's rows in one timeline. Rows are ordered by their ISO time, then
// host name, then seq — a total order, so the same logs always give the same merged table.
// Clocks of different hosts are not one clock: equal-looking times say nothing about causality.
import type { AuditRow } from './audit.js';

export type FleetAuditRow = AuditRow & { host: string };

export function mergeFleetAudit(perHost: Array<{ host: string; rows: AuditRow[] }>): FleetAuditRow[] {
  const all: FleetAuditRow[] = [];
  for (const { host, rows } of perHost) for (const r of rows) all.push({ ...r, host });
  return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.host < b.host ? -1 : a.host > b.host ? 1 : a.seq - b.seq));
}
