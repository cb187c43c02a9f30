// What a fuzz run sent, counted from its case files (`blockgraph fuzz --out DIR --save-cases`):
// QMP commands (transaction actions as `transaction/TYPE`) against QEMU's QAPI schema
// (commands/schema/table*.ts, generated from query-qmp-schema), the members of each command's
// argument type that were given (a union's variant members under its tag value, e.g.
// `blockdev-add[qcow2]`), block drivers opened, reopened and created, and job verbs by the state
// the job was in when the verb went out (the fuzzer's own World replayed over the transcripts).
// Usage: node --import tsx scripts/fuzz-coverage.ts RUN_DIR [--qemu 10.0] [--json]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, TYPES } from '../commands/schema/table.js';
import { COMMANDS_10_0, TYPES_10_0 } from '../commands/schema/table-10.0.js';
import type { TypeDef } from '../commands/schema/types.js';
import { isWaitStep, type Json, type JsonObject, type TranscriptStep } from '../oracle/format.js';
import { World } from '../oracle/fuzz/world.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const v10 = args.includes('--qemu') && args[args.indexOf('--qemu') + 1] === '10.0';
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--qemu');
if (!dir) { console.error('usage: fuzz-coverage RUN_DIR [--qemu 10.0] [--json]'); process.exit(2); }

// 10.0's table holds what differs from 7.2's (commands/schema/index.ts merges them the same way)
const commands: Record<string, string> = v10 ? { ...COMMANDS, ...COMMANDS_10_0 } : COMMANDS;
const types: Record<string, TypeDef> = v10 ? { ...TYPES, ...TYPES_10_0 } : TYPES;

/** blockdev-create's `options` (a union over the drivers that can create images). */
const CREATE_OPTIONS = 'q_obj_blockdev-create-argOptions';
const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** A struct or union type's members for a value: base members, then the variant's (by tag). */
function membersOf(type: string, value?: JsonObject): { members: string[]; variant?: string } {
  const t = types[type];
  if (!t || !('data' in t)) return { members: [] };
  const members = Object.keys(t.data).map((k) => k.replace(/^\*/, ''));
  if (t.tag && t.cases) {
    const tag = value?.[t.tag];
    const c = typeof tag === 'string' ? t.cases[tag] : undefined;
    if (c) return { members: [...members, ...membersOf(c).members], variant: tag as string };
  }
  return { members };
}

/** Every variant of a union type (for the "of" column of blockdev-add). */
function variantsOf(type: string): string[] {
  const t = types[type];
  return t && 'cases' in t && t.cases ? Object.keys(t.cases) : [];
}

interface Row { sent: number; ok: number; members: Map<string, number> }
const rows = new Map<string, Row>();
const row = (k: string) => { let r = rows.get(k); if (!r) rows.set(k, (r = { sent: 0, ok: 0, members: new Map() })); return r; };
const drivers = { add: new Map<string, number>(), inline: new Map<string, number>(), reopen: new Map<string, number>(), create: new Map<string, number>() };
const verbs = new Map<string, number>();
const verbStates = new Set<string>();

function countMembers(key: string, type: string, a: JsonObject, ok: boolean): void {
  const { members, variant } = membersOf(type, a);
  const r = row(variant ? `${key}[${variant}]` : key);
  r.sent++; if (ok) r.ok++;
  for (const m of members) if (a[m] !== undefined) bump(r.members, m);
}

/** Drivers of children given inline (file, backing, image, children[], target, ...). */
function inlineDrivers(o: JsonObject): void {
  for (const [k, v] of Object.entries(o)) {
    const list: Json[] = Array.isArray(v) ? v : [v];
    for (const x of list) {
      if (!isObj(x) || k === 'cache' || k === 'server') continue;
      if (typeof x.driver === 'string') bump(drivers.inline, x.driver);
      inlineDrivers(x);
    }
  }
}

const JOB_VERB = /^(block-)?job-|^block-job-/;
let cases = 0; let sentTotal = 0;
for (const f of readdirSync(join(dir, 'cases')).filter((x) => x.endsWith('.json')).sort()) {
  const t = JSON.parse(readFileSync(join(dir, 'cases', f), 'utf8')) as { steps: (TranscriptStep | JsonObject)[] };
  cases++;
  const world = new World();
  for (const s of t.steps) {
    if (isWaitStep(s as TranscriptStep)) { if ('graph' in s) world.observe(s as never, s as TranscriptStep); continue; }
    const step = s as unknown as { proc?: string; execute: string; arguments?: JsonObject; result?: { ok: boolean } };
    const a = step.arguments ?? {};
    const ok = step.result?.ok === true;
    sentTotal++;
    const ex = step.execute;
    if (JOB_VERB.test(ex)) {
      const id = String(a.id ?? a.device ?? '');
      const st = world.proc(step.proc ?? 'A').jobs.get(id)?.status ?? 'none';
      bump(verbs, `${ex}\t${st}`); verbStates.add(st);
    }
    const type = commands[ex];
    if (type) countMembers(ex, type, a, ok); else { const r = row(`${ex} (not in schema)`); r.sent++; if (ok) r.ok++; }
    if (ex === 'blockdev-add' && typeof a.driver === 'string') { bump(drivers.add, a.driver); inlineDrivers(a); }
    if (ex === 'blockdev-reopen' && Array.isArray(a.options)) for (const o of a.options) if (isObj(o)) bump(drivers.reopen, typeof o.driver === 'string' ? o.driver : '(none)');
    if (ex === 'blockdev-create' && isObj(a.options) && typeof a.options.driver === 'string') { bump(drivers.create, a.options.driver); countMembers('blockdev-create.options', CREATE_OPTIONS, a.options, ok); }
    if (ex === 'transaction' && Array.isArray(a.actions)) {
      for (const act of a.actions) {
        if (!isObj(act) || typeof act.type !== 'string') continue;
        const data = isObj(act.data) ? act.data : {};
        const at = types.TransactionAction && 'cases' in types.TransactionAction ? types.TransactionAction.cases?.[act.type] : undefined;
        const wrapped = at && types[at] && 'data' in types[at]! ? String((types[at] as { data: Record<string, string> }).data.data) : undefined;
        if (wrapped) countMembers(`transaction/${act.type}`, wrapped, data, ok); else { const r = row(`transaction/${act.type}`); r.sent++; if (ok) r.ok++; }
      }
      if (isObj(a.properties)) bump(row('transaction').members, `properties.${String(a.properties['completion-mode'] ?? '')}`);
    }
    if ('graph' in s) world.observe(step as never, s as TranscriptStep);
  }
}

const schemaCommands = Object.keys(commands).sort();
const neverSent = schemaCommands.filter((c) => ![...rows.keys()].some((k) => k === c || k.startsWith(`${c}[`)));
const addDrivers = variantsOf('BlockdevOptions');
// drivers that cannot create images are variants without members (QEMU refuses them at run time)
const createDrivers = variantsOf(CREATE_OPTIONS).filter((d) => membersOf(CREATE_OPTIONS, { driver: d }).members.length > 1);
const txActions = variantsOf('TransactionAction');
const sorted = (m: Map<string, number>) => [...m.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));

if (json) {
  console.log(JSON.stringify({
    cases, commands: sentTotal,
    rows: Object.fromEntries([...rows.entries()].sort().map(([k, r]) => [k, { sent: r.sent, ok: r.ok, members: Object.fromEntries(r.members) }])),
    neverSent, drivers: Object.fromEntries(Object.entries(drivers).map(([k, m]) => [k, Object.fromEntries(m)])),
    verbs: Object.fromEntries(verbs),
  }, null, 1));
  process.exit(0);
}

const out: string[] = [];
const dictTotal = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
out.push(`${dir}: ${cases} cases, ${sentTotal} commands`);
const seenCmds = schemaCommands.length - neverSent.length;
out.push(`schema commands sent: ${seenCmds} of ${schemaCommands.length}; never: ${neverSent.join(', ')}`);
const seenTx = txActions.filter((t) => rows.has(`transaction/${t}`));
out.push(`transaction actions sent: ${seenTx.length} of ${txActions.length}; never: ${txActions.filter((t) => !seenTx.includes(t)).join(', ')}`);
const seenAdd = addDrivers.filter((d) => drivers.add.has(d) || drivers.inline.has(d));
out.push(`blockdev-add drivers (top or inline): ${seenAdd.length} of ${addDrivers.length}; never: ${addDrivers.filter((d) => !seenAdd.includes(d)).join(', ')}`);
out.push(`blockdev-reopen drivers: ${sorted(drivers.reopen).map(([k, n]) => `${k} ${n}`).join(', ')}`);
out.push(`blockdev-create drivers: ${drivers.create.size} of ${createDrivers.length}: ${sorted(drivers.create).map(([k, n]) => `${k} ${n}`).join(', ')}`);
out.push(`blockdev-add top-level drivers (${dictTotal(drivers.add)}): ${sorted(drivers.add).map(([k, n]) => `${k} ${n}`).join(', ')}`);
out.push('');
out.push('| command | sent | ok | members given / in schema | members never given |');
out.push('|---|---|---|---|---|');
for (const [k, r] of [...rows.entries()].sort((x, y) => y[1].sent - x[1].sent || x[0].localeCompare(y[0]))) {
  const m = /^(.*?)(?:\[(.*)\])?$/.exec(k)!;
  const base = m[1]!; const variant = m[2];
  let type: string | undefined = commands[base];
  if (base.startsWith('transaction/')) {
    const at = types.TransactionAction && 'cases' in types.TransactionAction ? types.TransactionAction.cases?.[base.slice(12)] : undefined;
    type = at && types[at] && 'data' in types[at]! ? String((types[at] as { data: Record<string, string> }).data.data) : undefined;
  }
  if (base === 'blockdev-create.options') type = CREATE_OPTIONS;
  const all = type ? membersOf(type, variant ? { [(types[type] as { tag?: string }).tag ?? 'driver']: variant } : undefined).members : [];
  const never = all.filter((x) => !r.members.has(x));
  out.push(`| ${k} | ${r.sent} | ${r.ok} | ${all.length ? `${all.length - never.length}/${all.length}` : '-'} | ${never.join(' ')} |`);
}
out.push('');
const states = [...verbStates].sort();
out.push(`| job verb | ${states.join(' | ')} |`);
out.push(`|---|${states.map(() => '---|').join('')}`);
const verbNames = [...new Set([...verbs.keys()].map((k) => k.split('\t')[0]!))].sort();
for (const v of verbNames) out.push(`| ${v} | ${states.map((s) => verbs.get(`${v}\t${s}`) ?? 0).join(' | ')} |`);
const cells = verbNames.length * states.length;
const filled = [...verbs.keys()].length;
out.push(`job verb x state cells sent: ${filled} of ${cells}`);
// a fixed denominator (stop 34): every job verb of the schema by every JobStatus a verb can meet
// between commands, plus 'none' (no such job); created, undefined and null never are
const ALL_STATES = ['none', 'running', 'paused', 'ready', 'standby', 'waiting', 'pending', 'aborting', 'concluded'];
const allVerbs = schemaCommands.filter((c) => JOB_VERB.test(c) || c === 'block-job-set-speed' || c === 'block-job-change');
const fixed = allVerbs.flatMap((v) => ALL_STATES.map((st) => verbs.has(`${v}\t${st}`))).filter(Boolean).length;
out.push(`job verb x state cells sent, fixed matrix (${allVerbs.length} verbs x ${ALL_STATES.length} states): ${fixed} of ${allVerbs.length * ALL_STATES.length}`);
console.log(out.join('\n'));
