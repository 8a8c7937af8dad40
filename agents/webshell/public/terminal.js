// The terminal page: asks for the token once (or takes it from #token=...), creates a terminal, attaches to it
// over WebSocket, keeps its size in sync, and re-attaches to the same shell after a reload or a dropped socket.
(function () {
  'use strict';
  var status = document.getElementById('status');
  var fragment = new URLSearchParams(location.hash.slice(1));
  var token = fragment.get('token') || sessionStorage.getItem('webshell.token') || window.prompt('Access token') || '';
  sessionStorage.setItem('webshell.token', token);
  if (fragment.has('token')) history.replaceState(null, '', location.pathname);

  var term = new window.Terminal({ cursorBlink: true, scrollback: 5000 });
  var fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('terminal'));
  fit.fit();
  window.webshellTerminal = term;

  var socket = null;
  var pid = Number(sessionStorage.getItem('webshell.pid')) || 0;

  function headers() {
    return { Authorization: 'Bearer ' + token };
  }

  function create() {
    return fetch('terminals?cols=' + term.cols + '&rows=' + term.rows, { method: 'POST', headers: headers() })
      .then(function (res) {
        if (!res.ok) throw new Error('create failed: HTTP ' + res.status);
        return res.json();
      })
      .then(function (newPid) {
        pid = newPid;
        sessionStorage.setItem('webshell.pid', String(pid));
        return pid;
      });
  }

  function resize() {
    if (!pid) return;
    fetch('terminals/' + pid + '/size?cols=' + term.cols + '&rows=' + term.rows, { method: 'POST', headers: headers() });
  }

  function attach() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var base = location.pathname.replace(/[^/]*$/, '');
    socket = new WebSocket(scheme + location.host + base + 'terminals/' + pid + '?' + encodeURIComponent(token));
    socket.onopen = function () {
      status.textContent = 'terminal ' + pid;
      resize();
    };
    socket.onmessage = function (event) {
      term.write(event.data);
    };
    socket.onclose = function (event) {
      if (event.code === 4404) {
        sessionStorage.removeItem('webshell.pid');
        pid = 0;
        start();
        return;
      }
      status.textContent = 'closed (' + event.code + (event.reason ? ': ' + event.reason : '') + ')';
      if (event.code === 1000 || event.code === 1008) sessionStorage.removeItem('webshell.pid');
    };
  }

  function start() {
    (pid ? Promise.resolve(pid) : create()).then(attach).catch(function (err) {
      status.textContent = String(err.message || err);
    });
  }

  term.onData(function (data) {
    if (socket && socket.readyState === 1) socket.send(data);
  });
  window.addEventListener('resize', function () {
    fit.fit();
  });
  term.onResize(resize);
  start();
})();
