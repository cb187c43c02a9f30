// The HTML of `blockgraph report`: static pages (inline CSS and SVG, no script, no network).
// index.html holds the summary, the legend, the list of timeline pages and the graph at the
// head; timeline-NNNN.html hold the rows, a page at a time, each with its details folded;
// entries/eSEQ.html hold the pictures of one entry (the graph around what it touched). Each
// piece is a function of one row or one page, so the writer streams them.
import { LEGEND_ROWS } from '../replay/render-dot.js';
import { argsText, outcomeText, type AuditRow } from '../replay/audit.js';

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#24303f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#c9d3df;font-size:13px} header a{color:#fff}
main{padding:16px 24px;max-width:1400px}
table.timeline{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:24px}
.timeline th,.timeline td{padding:4px 8px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top;font-size:13px}
.timeline th{background:#eef1f5;position:sticky;top:0}
.timeline td.cmd,.timeline td.nodes{font-family:ui-monospace,Menlo,Consolas,monospace}
a{color:#1f5fbf;text-decoration:none}
tr.rejected td{background:#fff1f0} tr.recovery td{background:#fff8e1} tr.rolled-back td{background:#fff8e1}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e6f4ea;color:#1e6b34}
.badge.rejected,.badge.aborted{background:#fde2e1;color:#9b1c1c} .badge.rolled-back,.badge.recovery{background:#fdf0c4;color:#7a5a00}
.badge.open{background:#e8e8e8;color:#444}
section.entry{background:#fff;box-shadow:0 1px 2px #0002;margin:0 0 18px;padding:10px 16px}
section.entry h2{font-size:16px;margin:4px 0}
.meta{color:#555;font-size:12px}
pre{background:#f4f6f8;padding:6px 8px;overflow:auto;font-size:12px;margin:6px 0}
.graph{overflow:auto;border:1px solid #eee;margin-top:8px;background:#fff}
.graph svg{max-width:100%;height:auto}
ul.touched{margin:4px 0;padding-left:18px;font-size:12px;font-family:ui-monospace,Menlo,Consolas,monospace}
table.legend{border-collapse:collapse;font-size:12px;margin:8px 0 16px;background:#fff}
table.legend td{border:1px solid #ddd;padding:2px 8px}
nav.pages a{display:inline-block;margin:2px 6px 2px 0;font-size:13px}
details{margin-top:4px}
`;

const page = (title: string, sub: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CSS}</style></head>
<body>
<header><h1>${esc(title)}</h1><p>${sub}</p></header>
<main>
${body}
</main></body></html>
`;

function badge(r: AuditRow): string {
  const cls = r.kind === 'rejected' ? 'rejected' : r.kind === 'recovery' ? 'recovery' : r.outcome;
  const text = r.kind === 'recovery' ? `recovery: ${r.outcome}` : r.outcome;
  return `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** The nodes a row touched, named as the reader knows them (without "PROC:" when one process). */
export function rowNodes(r: AuditRow, oneProc: boolean, max = 4): string {
  const names = r.nodes.map((k) => (oneProc ? k.slice(k.indexOf(':') + 1) : k));
  return names.length > max ? `${names.slice(0, max).join(', ')} +${names.length - max}` : names.join(', ');
}

/** A timeline row's command cell: the command and, for node-creating commands, the node it named. */
export function commandCell(r: AuditRow): string {
  const named = typeof r.args['node-name'] === 'string' ? r.args['node-name'] : typeof r.args['job-id'] === 'string' ? r.args['job-id'] : typeof r.args.id === 'string' ? r.args.id : undefined;
  return named ? `${r.command} ${named}` : r.command;
}

export const entryFile = (r: AuditRow) => `entries/e${r.seq}.html`;

const TOUCHED_SHOWN = 50;

export const TIMELINE_HEAD = '<table class="timeline"><thead><tr><th>seq</th><th>time</th><th>proc</th><th>command</th><th>nodes touched</th><th>outcome</th><th>detail</th></tr></thead>\n<tbody>\n';
export const TIMELINE_TAIL = '</tbody></table>\n';

/** One timeline row, its details folded in the last cell; links to its entry page when it has one. */
export function timelineRow(r: AuditRow, o: { oneProc: boolean; hasPage: boolean }): string {
  const detail = r.kind === 'rejected' ? (r.count ? `${r.count} refusals, the first: ` : '') + (r.error?.desc ?? '') : r.kind === 'recovery' ? plural(r.steps.length, 'compensation') : `${plural(r.steps.length, 'step')}, ${plural(r.touched.length, 'entity', 'entities')} touched`;
  const more = [
    argsText(r.args, 10_000) ? `<pre>${esc(JSON.stringify(r.args))}</pre>` : '',
    r.steps.length ? `<div class="meta">steps: ${esc(r.steps.join(' → '))}</div>` : '',
    r.touched.length ? `<ul class="touched">${r.touched.slice(0, TOUCHED_SHOWN).map((t) => `<li>${esc(t)}</li>`).join('')}${r.touched.length > TOUCHED_SHOWN ? `<li>… ${r.touched.length - TOUCHED_SHOWN} more</li>` : ''}</ul>` : '',
    `<div class="meta">${esc(outcomeText(r))}</div>`,
  ].join('');
  const seq = o.hasPage ? `<a href="${entryFile(r)}">${r.seq}</a>` : String(r.seq);
  return `<tr class="${esc(r.kind)} ${esc(r.outcome)}" data-seq="${r.seq}" id="s${r.seq}"><td>${seq}</td><td>${esc(r.at.replace('T', ' ').slice(0, 23))}</td><td>${esc(r.proc)}</td>`
    + `<td class="cmd">${esc(commandCell(r))}</td><td class="nodes">${esc(rowNodes(r, o.oneProc))}</td><td>${badge(r)}</td><td><details><summary>${esc(detail)}</summary>${more}</details></td></tr>\n`;
}

export function legendHtml(): string {
  return `<table class="legend"><tr><td colspan="2"><b>legend</b> (the pictures)</td></tr>${LEGEND_ROWS.map(([k, v]) => `<tr><td><b>${esc(k)}</b></td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

export interface ReportHeader { title: string; store: string; head: number; generatedAt: string }

const sub = (h: ReportHeader, extra = '') => `store ${esc(h.store)} · head seq ${h.head} · generated ${esc(h.generatedAt)}${extra}`;

export function timelinePage(h: ReportHeader, n: number, pages: number, body: string): string {
  const nav = `<nav class="pages"><a href="index.html">index</a>${n > 1 ? ` <a href="${pageFile(n - 1)}">← page ${n - 1}</a>` : ''}${n < pages ? ` <a href="${pageFile(n + 1)}">page ${n + 1} →</a>` : ''}</nav>`;
  return page(`${h.title}: timeline ${n}/${pages}`, sub(h), `${nav}\n${body}\n${nav}`);
}

export const pageFile = (n: number) => `timeline-${String(n).padStart(4, '0')}.html`;

export function entryPage(h: ReportHeader, r: AuditRow, timeline: number, svg: string | undefined, steps: { name: string; seq: number; svg: string }[]): string {
  const body = `<nav class="pages"><a href="../index.html">index</a> <a href="../${pageFile(timeline)}#s${r.seq}">timeline page ${timeline}</a></nav>
<section class="entry" id="e${r.seq}">
<h2>seq ${r.seq}${r.txn ? ` · ${esc(r.txn)}` : ''} · ${esc(commandCell(r))} ${badge(r)}</h2>
<div class="meta">${esc(r.at)} · process ${esc(r.proc)} · ${esc(outcomeText(r))}</div>
${argsText(r.args, 10_000) ? `<pre>${esc(JSON.stringify(r.args, null, 1))}</pre>` : ''}
${r.steps.length ? `<div class="meta">steps: ${esc(r.steps.join(' → '))}</div>` : ''}
${r.touched.length ? `<details><summary>${plural(r.touched.length, 'entity', 'entities')} touched</summary><ul class="touched">${r.touched.map((t) => `<li>${esc(t)}</li>`).join('')}</ul></details>` : ''}
${svg ? `<h3 class="meta">the graph after it, around the nodes it touched (outlined)</h3><div class="graph">${svg}</div>` : ''}
${steps.length ? `<details><summary>graph after each step</summary>${steps.map((s) => `<h3 class="meta">after seq ${s.seq}: ${esc(s.name)}</h3><div class="graph">${s.svg}</div>`).join('\n')}</details>` : ''}
${legendHtml()}
</section>`;
  return page(`${h.title}: seq ${r.seq}`, sub(h), body);
}

export function indexPage(h: ReportHeader, o: { entries: number; pages: { n: number; first: number; last: number; rows: number }[]; drawn: number; finalSvg?: string; finalNote?: string }): string {
  const pages = o.pages.map((p) => `<a href="${pageFile(p.n)}">${p.n}: seq ${p.first}–${p.last} (${p.rows})</a>`).join('\n');
  const body = `<p>${plural(o.entries, 'timeline entry', 'timeline entries')} on ${plural(o.pages.length, 'page')}; ${plural(o.drawn, 'entry', 'entries')} with a picture (the newest ones that changed the graph; see --graphs).</p>
<h2>timeline</h2>
<nav class="pages">${pages || '(no entries)'}</nav>
<h2>graph at the head (seq ${h.head})</h2>
${o.finalSvg ? `<div class="graph">${o.finalSvg}</div>` : `<p class="meta">${esc(o.finalNote ?? '')}</p>`}
${legendHtml()}`;
  return page(h.title, sub(h), body);
}
