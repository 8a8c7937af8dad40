/**
 * The status page every agent serves at /status and the pod runner at / (one page, one look): each agent's
 * readiness with its reason, uptime, RSS and CPU over the last minutes as small graphs, and its own figures (bus
 * clients and shed frames, terminals, transfers, listeners...). It reads the JSON at the body's data-source,
 * every few seconds; a 401 makes it ask for the token once (kept for the tab). Inline: the agents are bundled, so
 * the kit carries no files of its own.
 */
export const STATUS_PAGE = (title: string, source: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>${title.replace(/[<&"]/g, '')} status</title>
<style>
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0; padding: 1rem; }
h1 { font-size: 1.2rem; margin: 0 0 0.25rem; }
#updated { color: #5d6673; margin-bottom: 1rem; }
#agents { display: grid; grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr)); gap: 0.75rem; }
.agent { background: #fff; border: 1px solid #d8dce3; border-radius: 8px; padding: 0.75rem; }
.agent h2 { font-size: 1rem; margin: 0; display: flex; justify-content: space-between; gap: 0.5rem; }
.state { font-weight: 600; }
.ready .state { color: #1a7f37; }
.not-ready .state { color: #b42318; }
.not-ready { border-color: #f1b5b0; }
.reason, .error { color: #b42318; overflow-wrap: anywhere; }
.meta { color: #5d6673; margin: 0.2rem 0 0.5rem; }
.graph { display: grid; grid-template-columns: 4.5rem 1fr 5.5rem; align-items: center; gap: 0.4rem; margin: 0.2rem 0; }
.graph svg { width: 100%; height: 28px; background: #f1f3f6; border-radius: 4px; }
.graph polyline { fill: none; stroke: #2563eb; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.graph .now { text-align: right; font-variant-numeric: tabular-nums; }
.figures { margin: 0.5rem 0 0; padding: 0; list-style: none; font-variant-numeric: tabular-nums; }
.figures li { display: flex; justify-content: space-between; gap: 0.5rem; border-top: 1px dashed #e5e7eb; padding: 0.1rem 0; }
.figures li span:first-child { color: #5d6673; overflow-wrap: anywhere; }
</style>
</head>
<body data-source="${source}">
<h1>${title.replace(/[<&"]/g, '')}</h1>
<div id="updated">loading…</div>
<div id="agents"></div>
<script>
(function () {
  'use strict';
  var source = document.body.getAttribute('data-source');
  var token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('status.token') || '';
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function duration(s) {
    if (s < 60) return Math.floor(s) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function graph(label, values, unit, digits) {
    var row = el('div', 'graph');
    row.append(el('span', '', label));
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 100 28');
    svg.setAttribute('preserveAspectRatio', 'none');
    var line = document.createElementNS(ns, 'polyline');
    // CPU from 0; memory around what it has been (its changes are what an admin looks for)
    var lo = unit === '%' || !values.length ? 0 : Math.min.apply(null, values) * 0.95;
    var hi = Math.max.apply(null, values.concat([unit === '%' ? 5 : lo + 1])) * 1.05;
    var points = values.map(function (v, i) {
      var x = values.length > 1 ? (i / (values.length - 1)) * 100 : 100;
      return x.toFixed(1) + ',' + (27 - ((v - lo) / (hi - lo)) * 26).toFixed(1);
    });
    line.setAttribute('points', points.join(' '));
    svg.setAttribute('data-points', String(values.length));
    svg.setAttribute('aria-label', label + ' over the last ' + values.length + ' samples');
    svg.append(line);
    row.append(svg);
    var now = values.length ? values[values.length - 1] : NaN;
    row.append(el('span', 'now', isNaN(now) ? '–' : now.toFixed(digits) + ' ' + unit));
    return row;
  }
  function figureName(f) {
    var labels = Object.keys(f.labels || {}).map(function (k) { return k + '=' + f.labels[k]; });
    return f.name + (labels.length ? ' {' + labels.join(', ') + '}' : '');
  }
  function render(data) {
    var box = document.getElementById('agents');
    box.textContent = '';
    data.agents.forEach(function (a) {
      var card = el('section', 'agent ' + (a.ready ? 'ready' : 'not-ready'));
      card.setAttribute('data-agent', a.name);
      var h = el('h2');
      h.append(el('span', '', a.name), el('span', 'state', a.ready ? 'ready' : 'not ready'));
      card.append(h);
      if (!a.ready && a.reason) card.append(el('div', 'reason', a.reason));
      var meta = [];
      if (typeof a.uptimeSeconds === 'number') meta.push('up ' + duration(a.uptimeSeconds));
      if (a.url) meta.push(a.url);
      card.append(el('div', 'meta', meta.join(' · ')));
      var samples = a.samples || [];
      card.append(graph('RSS', samples.map(function (s) { return s.rssMiB; }), 'MiB', 1));
      card.append(graph('CPU', samples.map(function (s) { return s.cpuPercent; }), '%', 1));
      if (a.figures && a.figures.length) {
        var list = el('ul', 'figures');
        a.figures.forEach(function (f) {
          var li = el('li');
          li.append(el('span', '', figureName(f)), el('span', '', String(Math.round(f.value * 100) / 100)));
          list.append(li);
        });
        card.append(list);
      }
      (a.warnings || []).forEach(function (w) { card.append(el('div', 'error warning', 'warning: ' + w)); });
      if (a.lastError) card.append(el('div', 'error', 'last error: ' + a.lastError));
      box.append(card);
    });
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString() + ' · refreshes every 3 s';
  }
  function refresh() {
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    fetch(source, { headers: headers, cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401 && !token) {
          token = window.prompt('Access token') || '';
          sessionStorage.setItem('status.token', token);
          throw new Error('token asked');
        }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(render)
      .catch(function (err) {
        document.getElementById('updated').textContent = 'not updated: ' + err.message;
      })
      .then(function () {
        setTimeout(refresh, 3000);
      });
  }
  if (token) sessionStorage.setItem('status.token', token);
  refresh();
})();
</script>
</body>
</html>
`;
