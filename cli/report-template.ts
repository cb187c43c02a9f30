// The HTML of `blockgraph report`: one self-contained page (inline CSS and SVG, no script,
// no network), a timeline of the log's transactions, refusals and recovery actions, then one
// section per entry with the graph after it.
import { argsText, outcomeText, type AuditRow } from '../replay/audit.js';

export interface ReportEntry {
  row: AuditRow;
  svg?: string;                                 // graph after the entry (absent: unchanged)
  steps?: { name: string; seq: number; svg: string }[]; // --every-step
}

export interface ReportModel {
  title: string;
  store: string;
  head: number;
  generatedAt: string;
  entries: ReportEntry[];
  finalSvg: string;
}

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#24303f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#c9d3df;font-size:13px}
main{padding:16px 24px;max-width:1400px}
table.timeline{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:24px}
.timeline th,.timeline td{padding:4px 8px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top;font-size:13px}
.timeline th{background:#eef1f5;position:sticky;top:0}
.timeline td.cmd{font-family:ui-monospace,Menlo,Consolas,monospace}
.timeline a{color:#1f5fbf;text-decoration:none}
tr.rejected td{background:#fff1f0} tr.recovery td{background:#fff8e1} tr.rolled-back td{background:#fff8e1}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e6f4ea;color:#1e6b34}
.badge.rejected,.badge.aborted{background:#fde2e1;color:#9b1c1c} .badge.rolled-back,.badge.recovery{background:#fdf0c4;color:#7a5a00}
.badge.open{background:#e8e8e8;color:#444}
section.entry{background:#fff;box-shadow:0 1px 2px #0002;margin:0 0 18px;padding:10px 16px}
section.entry h2{font-size:16px;margin:4px 0}
section.entry .meta{color:#555;font-size:12px}
pre{background:#f4f6f8;padding:6px 8px;overflow:auto;font-size:12px;margin:6px 0}
.graph{overflow:auto;border:1px solid #eee;margin-top:8px;background:#fff}
.graph svg{max-width:100%;height:auto}
ul.touched{margin:4px 0;padding-left:18px;font-size:12px;font-family:ui-monospace,Menlo,Consolas,monospace;columns:2}
details{margin-top:6px}
`;

function badge(r: AuditRow): string {
  const cls = r.kind === 'rejected' ? 'rejected' : r.kind === 'recovery' ? 'recovery' : r.outcome;
  const text = r.kind === 'recovery' ? `recovery: ${r.outcome}` : r.outcome;
  return `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

const anchor = (r: AuditRow) => `e${r.seq}`;

export function reportHtml(m: ReportModel): string {
  const rows = m.entries.map(({ row: r }) => `<tr class="${esc(r.kind)} ${esc(r.outcome)}" data-seq="${r.seq}">`
    + `<td><a href="#${anchor(r)}">${r.seq}</a></td><td>${esc(r.at.replace('T', ' ').slice(0, 23))}</td><td>${esc(r.proc)}</td>`
    + `<td class="cmd">${esc(r.command)}</td><td>${badge(r)}</td><td>${esc(r.kind === 'rejected' ? r.error?.desc ?? '' : r.kind === 'recovery' ? plural(r.steps.length, 'compensation') : `${plural(r.steps.length, 'step')}, ${plural(r.touched.length, 'entity', 'entities')} touched`)}</td></tr>`).join('\n');
  const sections = m.entries.map(({ row: r, svg, steps }) => `<section class="entry" id="${anchor(r)}">
<h2>seq ${r.seq}${r.txn ? ` · ${esc(r.txn)}` : ''} · ${esc(r.command)} ${badge(r)}</h2>
<div class="meta">${esc(r.at)} · process ${esc(r.proc)} · ${esc(outcomeText(r))}</div>
${argsText(r.args, 10_000) ? `<pre>${esc(JSON.stringify(r.args, null, 1))}</pre>` : ''}
${r.steps.length ? `<div class="meta">steps: ${esc(r.steps.join(' → '))}</div>` : ''}
${r.touched.length ? `<details><summary>${plural(r.touched.length, 'entity', 'entities')} touched</summary><ul class="touched">${r.touched.map((t) => `<li>${esc(t)}</li>`).join('')}</ul></details>` : ''}
${svg ? `<div class="graph">${svg}</div>` : `<div class="meta">graph unchanged</div>`}
${steps?.length ? `<details><summary>graph after each step</summary>${steps.map((s) => `<h3 class="meta">after seq ${s.seq}: ${esc(s.name)}</h3><div class="graph">${s.svg}</div>`).join('\n')}</details>` : ''}
</section>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(m.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head>
<body>
<header><h1>${esc(m.title)}</h1><p>store ${esc(m.store)} · head seq ${m.head} · ${m.entries.length} entries · generated ${esc(m.generatedAt)}</p></header>
<main>
<table class="timeline"><thead><tr><th>seq</th><th>time</th><th>proc</th><th>command</th><th>outcome</th><th>detail</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<section class="entry" id="final"><h2>graph at the head (seq ${m.head})</h2><div class="graph">${m.finalSvg}</div></section>
${sections}
</main></body></html>
`;
}
