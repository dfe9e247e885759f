// The HTML report's grids, filters and cell details, drawn from the data in #data: gzipped JSON in base64
// (see html.py, encode_data), inflated here without any network.
let DATA, COLS, CELLS;
async function load() {
  const text = atob(document.getElementById('data').textContent), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const json = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  DATA = await new Response(json).json();
  COLS = DATA.columns; CELLS = DATA.cells;
  // Shared values come as indexes into DATA.pool (see html.py, POOLED).
  for (const c of CELLS) {
    for (const k of ['stages', 'expected_rule']) if (typeof c[k] === 'number') c[k] = DATA.pool[c[k]];
    for (const [k, v] of Object.entries(c.observed || {}))
      if (v && typeof v === 'object' && '$' in v) c.observed[k] = DATA.pool[v['$']];
  }
}
const AXES = [['backend','backend'],['binding','binding'],['target','target'],
  ['build_python','build interpreter'],['run_python','run interpreter'],['status','status']];
const el = (tag, attrs, ...kids) => { const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k); return e; };
function filters() {
  const box = document.getElementById('filters');
  for (const [key, label] of AXES) {
    const values = [...new Set(CELLS.map(c => c[key]))].sort();
    const sel = el('select', {id: 'f-' + key, 'data-key': key}, el('option', {value: ''}, 'all'));
    for (const v of values) sel.append(el('option', {value: v}, v));
    sel.onchange = apply;
    box.append(el('label', {}, label + ' ', sel));
  }
  const text = el('input', {id: 'f-text', type: 'search', placeholder: 'free text (cell, reason)'});
  text.oninput = apply;
  box.append(el('label', {}, text), el('span', {id: 'count'}));
}
function grids() {
  const root = document.getElementById('grids');
  const byCase = {};
  CELLS.forEach((c, i) => { (byCase[c.case] = byCase[c.case] || []).push(i); });
  const torder = Object.fromEntries(DATA.targets.map((t, n) => [t, n]));
  const corder = Object.fromEntries(COLS.map((c, n) => [c, n]));
  for (const name of Object.keys(byCase).sort()) {
    const rows = {};
    for (const i of byCase[name]) {
      const c = CELLS[i], key = [c.target, c.wheel || '', c.build_python].join('\u0000');
      (rows[key] = rows[key] || {})[c.run_python] = i;
    }
    const head = el('tr', {}, el('th', {}, 'target'), el('th', {}, 'wheel tag'), el('th', {}, 'built on'));
    for (const col of COLS) head.append(el('th', {}, col));
    const tbody = el('tbody');
    const keys = Object.keys(rows).sort((a, b) => { const [ta, wa, ba] = a.split('\u0000'), [tb, wb, bb] = b.split('\u0000');
      return ((torder[ta] ?? 99) - (torder[tb] ?? 99)) || ((corder[ba] ?? 99) - (corder[bb] ?? 99)) || wa.localeCompare(wb); });
    for (const key of keys) {
      const [target, wheel, built] = key.split('\u0000');
      const tag = wheel ? wheel.split('-').slice(2).join('-').replace(/\.whl$/, '') : 'no wheel';
      const tr = el('tr', {class: 'row'}, el('td', {}, target), el('td', {}, el('code', {}, tag)), el('td', {}, built));
      for (const col of COLS) {
        const i = rows[key][col];
        if (i === undefined) { tr.append(el('td')); continue; }
        const c = CELLS[i];
        const shown = c.symbol.startsWith(DATA.symbols.refused) ? 'refused' : c.status;
        const td = el('td', {class: 'c s-' + shown, id: 'cell-' + i, 'data-i': i, title: c.cell + ': ' + c.status + ': ' + c.reason},
          c.symbol);
        td.onclick = () => show(i);
        tr.append(td);
      }
      tbody.append(tr);
    }
    const sec = el('section', {class: 'case'}, el('h3', {}, name),
      el('table', {class: 'grid'}, el('thead', {}, head), tbody));
    root.append(sec);
  }
}
function apply() {
  const want = {};
  for (const [key] of AXES) want[key] = document.getElementById('f-' + key).value;
  const text = document.getElementById('f-text').value.toLowerCase();
  let shown = 0;
  document.querySelectorAll('td.c').forEach(td => {
    const c = CELLS[+td.dataset.i];
    let ok = AXES.every(([key]) => !want[key] || c[key] === want[key]);
    if (ok && text) ok = (c.cell + ' ' + c.status + ' ' + c.reason).toLowerCase().includes(text);
    td.classList.toggle('hidden', !ok); if (ok) shown++;
  });
  document.querySelectorAll('tr.row').forEach(tr => tr.classList.toggle('hidden', !tr.querySelector('td.c:not(.hidden)')));
  document.querySelectorAll('section.case').forEach(s => s.classList.toggle('hidden', !s.querySelector('tr.row:not(.hidden)')));
  document.getElementById('count').textContent = shown + ' of ' + CELLS.length + ' cells shown';
}
// Links from data: http(s) URLs with a host, and paths inside the run directory; anything else is text
// (a `javascript:` URL in a record must never become a link).
const webUrl = (u) => (typeof u === 'string' && /^https?:\/\/[^\/\s?#]+/i.test(u) && !/[\s\u0000-\u001f]/.test(u) ? u : null);
const runPath = (p) => typeof p === 'string' && /^[A-Za-z0-9_+][A-Za-z0-9._+-]*(\/[A-Za-z0-9_+][A-Za-z0-9._+-]*)*$/.test(p) && !p.includes('..');
const link = (href, text) => (href ? el('a', {href}, text) : el('span', {}, text));
function pre(obj) { return el('pre', {}, JSON.stringify(obj, null, 1)); }
// A cell's statuses night by night (history.json, carried by the nightly): one symbol each.
function strip(codes) {
  const out = el('p', {class: 'strip'});
  [...codes].forEach((code, n) => {
    const status = DATA.codes[code], night = DATA.nights[DATA.nights.length - codes.length + n];
    out.append(el('span', {class: status ? 's-' + status : 'absent', title: night + ': ' + (status || 'not run')},
      status ? DATA.symbols[status] : '·'));
  });
  return out;
}
function show(i) {
  const c = CELLS[i], box = document.getElementById('details');
  box.replaceChildren();
  const close = el('button', {id: 'close'}, 'close'); close.onclick = () => box.classList.remove('open');
  box.append(close, el('h2', {}, c.cell),
    el('p', {}, el('b', {class: 's-' + c.status}, c.status), ' at ' + (c.stage || '?') + ': ' + c.reason),
    el('p', {}, 'expected: ' + (c.expected || '') + (c.expected_rule ? ' (' + c.expected_rule + ')' : '')));
  if (c.known_issue) box.append(el('p', {}, 'known issue: ', link(webUrl(c.known_issue), c.known_issue)));
  if (c.wheel) box.append(el('p', {}, 'wheel: ', el('code', {}, c.wheel), ' ', (c.ext_files || []).join(', ')));
  const links = el('p', {class: 'logs'});
  if (runPath(c.log)) links.append(el('a', {href: c.log}, 'cell log'), ' ');
  if (runPath(c.build_log)) links.append(el('a', {href: c.build_log}, 'build log'));
  box.append(links);
  const stages = el('table', {class: 'stages'}, el('tr', {}, el('th', {}, 'stage'), el('th', {}, 'status'), el('th', {}, 'reason')));
  // In the order of the data flow (records store their keys sorted).
  const ORDER = ['plan', 'build', 'audit', 'resolve', 'install', 'import', 'call', 'threads', 'load:sys_path', 'load:by_path'];
  const rank = (n) => (ORDER.indexOf(n) < 0 ? ORDER.length : ORDER.indexOf(n));
  for (const [name, s] of Object.entries(c.stages || {}).sort((a, b) => rank(a[0]) - rank(b[0])))
    stages.append(el('tr', {}, el('td', {}, name), el('td', {class: 's-' + s.status}, s.status), el('td', {}, s.reason)));
  box.append(el('h3', {}, 'stages'), stages);
  if (c.findings && c.findings.length)
    box.append(el('h3', {}, 'loaded anyway (findings)'),
      el('ul', {}, ...c.findings.map(f => el('li', {}, f.route + ': ' + f.kind + ' (' + f.detail + ')'))));
  if (c.history) box.append(el('h3', {}, 'last nights (oldest first)'), strip(c.history));
  if (c.reused_from) box.append(el('p', {}, 'observations reused from run ' + c.reused_from));
  if (c.observed) box.append(el('h3', {}, 'observations'), pre(c.observed));
  box.classList.add('open');
}
// The page's static parts paint first; the grids follow once the data is inflated.
// A click in the overview jumps to a cell (its link's #cell-N): first show every cell again.
function unfilter() {
  for (const [key] of AXES) document.getElementById('f-' + key).value = '';
  document.getElementById('f-text').value = '';
  apply();
}
load().then(() => {
  filters(); grids(); apply();
  document.getElementById('heatmap').addEventListener('click', e => { if (e.target.closest('a')) unfilter(); });
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  document.body.dataset.readyAt = Math.round(performance.now());  // benchmarks/page_bench.py reads it
  document.body.dataset.ready = 'yes';
});
