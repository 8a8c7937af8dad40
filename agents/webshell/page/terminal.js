// The terminal page: asks for the token once (or takes it from #token=...), creates a terminal, attaches to it
// over WebSocket and keeps its size in sync. A dropped socket is re-attached to the same shell by itself (the
// agent keeps it for its grace period), with backoff and an indicator; a reload re-attaches too. Copy and paste
// with Ctrl+Shift+C / Ctrl+Shift+V (and Ctrl+Insert / Shift+Insert); text size with A−/A+ or Ctrl+- / Ctrl+= /
// Ctrl+0, remembered; the page's title follows the shell's title sequence. Bundled at build time (build/bundle-page.mjs).
import { accessToken } from '@desktop-agents/kit/page/access-token';

(function () {
  'use strict';
  var status = document.getElementById('status');
  var token = accessToken('webshell.token');

  var FONT_KEY = 'webshell.font-size';
  var fontSize = Number(localStorage.getItem(FONT_KEY)) || 14;
  var term = new window.Terminal({ cursorBlink: true, scrollback: 5000, fontSize: fontSize });
  var fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('terminal'));
  fit.fit();
  window.webshellTerminal = term;

  var socket = null;
  var pid = Number(sessionStorage.getItem('webshell.pid')) || 0;
  var attempt = 0;
  var retryTimer = null;
  var defaultTitle = document.title;

  function show(text, state) {
    status.textContent = text;
    status.className = state;
  }

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
    fetch('terminals/' + pid + '/size?cols=' + term.cols + '&rows=' + term.rows, { method: 'POST', headers: headers() }).catch(function () {});
  }

  function reconnectLater(reason) {
    attempt += 1;
    var delay = Math.min(10000, 250 * Math.pow(2, attempt - 1));
    show('connection lost (' + reason + '): reconnecting in ' + Math.ceil(delay / 1000) + ' s (attempt ' + attempt + ')…', 'reconnecting');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(start, delay);
  }

  function attach() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var base = location.pathname.replace(/[^/]*$/, '');
    var ws = new WebSocket(scheme + location.host + base + 'terminals/' + pid + '?' + encodeURIComponent(token));
    socket = ws;
    window.webshellSocket = ws;
    ws.onopen = function () {
      var again = attempt > 0;
      attempt = 0;
      show('terminal ' + pid + (again ? ' (reattached)' : ''), 'connected');
      resize();
    };
    ws.onmessage = function (event) {
      term.write(event.data);
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      if (event.code === 4404) {
        // the shell is gone (past its grace period, or the agent restarted): a new one
        sessionStorage.removeItem('webshell.pid');
        pid = 0;
        term.write('\r\n\x1b[2m[the previous shell is gone: a new one]\x1b[0m\r\n');
        start();
        return;
      }
      if (event.code === 1000 || event.code === 1008 || event.code === 4000) {
        if (event.code !== 4000) sessionStorage.removeItem('webshell.pid');
        show('closed (' + event.code + (event.reason ? ': ' + event.reason : '') + ')', 'closed');
        return;
      }
      reconnectLater(event.reason || 'code ' + event.code);
    };
  }

  function start() {
    (pid ? Promise.resolve(pid) : create()).then(attach).catch(function (err) {
      reconnectLater(String(err.message || err));
    });
  }

  function setFontSize(size) {
    fontSize = Math.max(8, Math.min(32, size));
    localStorage.setItem(FONT_KEY, String(fontSize));
    term.options.fontSize = fontSize;
    document.getElementById('font-size').textContent = fontSize + ' px';
    fit.fit();
  }

  function copy() {
    var text = term.getSelection();
    if (text && navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {});
  }

  term.attachCustomKeyEventHandler(function (event) {
    if (event.type !== 'keydown') return true;
    var key = event.key.toLowerCase();
    if ((event.ctrlKey && event.shiftKey && key === 'c') || (event.ctrlKey && key === 'insert')) {
      copy();
      return false;
    }
    if ((event.ctrlKey && event.shiftKey && key === 'v') || (event.shiftKey && key === 'insert')) {
      // the browser pastes on these itself (a paste event xterm.js takes): only keep xterm from sending a control key
      return false;
    }
    if (event.ctrlKey && !event.shiftKey && (key === '=' || key === '+' || key === '-' || key === '0')) {
      setFontSize(key === '0' ? 14 : fontSize + (key === '-' ? -1 : 1));
      return false;
    }
    return true;
  });
  term.onData(function (data) {
    if (socket && socket.readyState === 1) socket.send(data);
  });
  term.onTitleChange(function (title) {
    document.title = title || defaultTitle;
  });
  document.getElementById('smaller').onclick = function () {
    setFontSize(fontSize - 1);
    term.focus();
  };
  document.getElementById('larger').onclick = function () {
    setFontSize(fontSize + 1);
    term.focus();
  };
  window.addEventListener('resize', function () {
    fit.fit();
  });
  window.addEventListener('online', function () {
    if (!socket && attempt > 0) {
      clearTimeout(retryTimer);
      start();
    }
  });
  term.onResize(resize);
  setFontSize(fontSize);
  start();
})();
