// The browser side of the desktop's clipboard and notifications (../shared/spec/integration.md), for our page and
// for abcdesktop's UI: DesktopIntegration.connect({ busUrl, token, panel }) joins the bus and
//   - on the user's own paste (Ctrl/Cmd+V in the page) sends the pasted text or PNG as clipboard.set: the paste
//     event carries the data, so no permission prompt is needed (a read on focus would prompt, and blocks clicks in
//     Firefox and Safari);
//   - on clipboard.changed writes the browser clipboard where the browser allows it, else shows the value in the
//     panel with a Copy button (a click is the gesture every browser accepts);
//   - shows each notification with the Notification API once the user allowed it, and always in the panel with its
//     action buttons; a click sends notification.action.
// Refusals (CLIPBOARD_REFUSED) are shown in words. No dependencies, no build step.
(function (global) {
  'use strict';

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    for (var key in attributes || {}) node.setAttribute(key, attributes[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function base64OfBlob(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
      };
      reader.onerror = function () {
        reject(reader.error);
      };
      reader.readAsDataURL(blob);
    });
  }

  function blobOfBase64(base64, type) {
    var bytes = atob(base64);
    var array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) array[i] = bytes.charCodeAt(i);
    return new Blob([array], { type: type });
  }

  function connect(options) {
    var panel = options.panel || document.body;
    var status = element('p', { 'data-role': 'status', role: 'status' });
    var clip = element('section', { 'data-role': 'clipboard', 'aria-label': 'Clipboard from the desktop' });
    var notes = element('section', { 'data-role': 'notifications', 'aria-label': 'Notifications' });
    panel.appendChild(status);
    panel.appendChild(clip);
    panel.appendChild(notes);
    var shown = {};
    var ws;
    var closedByUser = false;

    function say(text) {
      status.textContent = text;
    }

    function send(method, data) {
      if (ws && ws.readyState === 1) ws.send(JSON.stringify({ method: method, data: data }));
      else say('not connected to the desktop: ' + method + ' not sent');
    }

    // the user's paste: the data comes with the event, no prompt
    document.addEventListener('paste', function (event) {
      var data = event.clipboardData;
      if (!data) return;
      var items = Array.prototype.slice.call(data.items || []);
      var image = items.filter(function (item) {
        return item.kind === 'file' && item.type === 'image/png';
      })[0];
      event.preventDefault();
      if (image) {
        base64OfBlob(image.getAsFile()).then(function (base64) {
          send('clipboard.set', { mime: 'image/png', base64: base64 });
          say('image pasted into the desktop');
        });
        return;
      }
      var text = data.getData('text/plain');
      if (text) {
        send('clipboard.set', { mime: 'text/plain', text: text });
        say('text pasted into the desktop');
      }
    });

    function showClipboard(changed) {
      clip.textContent = '';
      clip.appendChild(element('h2', {}, 'Copied in the desktop'));
      var copy = element('button', { type: 'button', 'data-role': 'copy' }, 'Copy');
      if (changed.mime === 'image/png') {
        var url = URL.createObjectURL(blobOfBase64(changed.base64, 'image/png'));
        clip.appendChild(element('img', { src: url, alt: 'image copied in the desktop', 'data-role': 'copied-image' }));
        copy.onclick = function () {
          navigator.clipboard.write([new ClipboardItem({ 'image/png': blobOfBase64(changed.base64, 'image/png') })]).then(
            function () {
              say('image copied to this computer');
            },
            function (err) {
              say('this browser did not let the page copy the image: ' + err.message);
            },
          );
        };
      } else {
        var area = element('textarea', { readonly: '', rows: '4', 'data-role': 'copied-text' });
        area.value = changed.text;
        clip.appendChild(area);
        copy.onclick = function () {
          area.select();
          var done = function () {
            say('text copied to this computer');
          };
          if (navigator.clipboard && navigator.clipboard.writeText)
            navigator.clipboard.writeText(changed.text).then(done, function () {
              if (document.execCommand('copy')) done();
              else say('select the text and copy it yourself');
            });
          else if (document.execCommand('copy')) done();
        };
      }
      clip.appendChild(copy);
    }

    function clipboardChanged(changed) {
      var write =
        changed.mime === 'image/png'
          ? function () {
              return navigator.clipboard.write([new ClipboardItem({ 'image/png': blobOfBase64(changed.base64, 'image/png') })]);
            }
          : function () {
              return navigator.clipboard.writeText(changed.text);
            };
      var attempt;
      try {
        attempt = navigator.clipboard ? write() : Promise.reject(new Error('no clipboard API'));
      } catch (err) {
        attempt = Promise.reject(err);
      }
      // a browser may neither allow nor refuse (a permission prompt nobody answers): a second is the limit
      var timeout = new Promise(function (_, reject) {
        setTimeout(function () {
          reject(new Error('no answer'));
        }, 1000);
      });
      Promise.race([attempt, timeout]).then(
        function () {
          say((changed.mime === 'image/png' ? 'image' : 'text') + ' from the desktop copied to this computer');
          clip.textContent = '';
        },
        function () {
          // not allowed without a gesture here: the panel and its Copy button
          say('copied in the desktop: use the Copy button');
          showClipboard(changed);
        },
      );
    }

    function notify(n) {
      var entry = element('article', { 'data-id': String(n.id), 'data-role': 'notification', 'data-urgency': n.urgency });
      entry.appendChild(element('h3', {}, n.summary));
      if (n.body) entry.appendChild(element('p', {}, n.body));
      (n.actions || []).forEach(function (action) {
        var button = element('button', { type: 'button', 'data-action': action.key }, action.label);
        button.onclick = function () {
          send('notification.action', { id: n.id, key: action.key });
        };
        entry.appendChild(button);
      });
      var previous = notes.querySelector('[data-id="' + n.id + '"]');
      if (previous) notes.replaceChild(entry, previous);
      else notes.insertBefore(entry, notes.firstChild);
      var system;
      if (global.Notification && Notification.permission === 'granted') {
        system = new Notification(n.summary, { body: n.body, tag: 'desktop-' + n.id, requireInteraction: n.timeoutMs === 0 });
        system.onclick = function () {
          global.focus();
        };
      }
      shown[n.id] = { entry: entry, system: system };
    }

    function notificationClosed(closed) {
      var it = shown[closed.id];
      if (!it) return;
      if (it.system) it.system.close();
      if (it.entry.parentNode) it.entry.parentNode.removeChild(it.entry);
      delete shown[closed.id];
    }

    function open() {
      ws = new WebSocket(options.busUrl + (options.busUrl.indexOf('?') === -1 ? '?' : '&') + 'jwt_token=' + encodeURIComponent(options.token));
      ws.onopen = function () {
        say('connected to the desktop');
      };
      ws.onmessage = function (event) {
        var frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        if (frame.method === 'clipboard.changed') clipboardChanged(frame.data);
        else if (frame.method === 'notification') notify(frame.data);
        else if (frame.method === 'notification.closed') notificationClosed(frame.data);
        else if (frame.method === 'error' && frame.data && frame.data.code === 'CLIPBOARD_REFUSED') say('the desktop refused the paste: ' + frame.data.message);
      };
      ws.onclose = function (event) {
        if (closedByUser) return;
        say('disconnected from the desktop (' + event.code + (event.reason ? ' ' + event.reason : '') + '); trying again');
        setTimeout(open, 2000);
      };
    }
    open();

    return {
      close: function () {
        closedByUser = true;
        if (ws) ws.close();
      },
      /** Asks for the Notification permission: call it from a click. */
      enableNotifications: function () {
        if (!global.Notification) return Promise.resolve('unsupported');
        return Notification.requestPermission();
      },
    };
  }

  global.DesktopIntegration = { connect: connect };
})(window);
