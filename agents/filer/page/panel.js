// The file panel (GET /filer/panel): uploads dropped or picked files and whole folders over tus (resumable: a cut
// connection is retried where it stopped, and after a reload the same file dropped again resumes), three at a time,
// with progress per file and overall; lists the home folder with download and delete. Bundled with tus-js-client
// at build time (build/bundle-page.mjs). window.filePanel exposes the transfers for tests and embedding pages.
import { accessToken } from '@desktop-agents/kit/page/access-token';
import { Upload } from 'tus-js-client';

const $ = (id) => document.getElementById(id);
const base = location.pathname.replace(/\/panel\/?$/, '');
const PARALLEL = 3;
const token = accessToken('filer.token');
const authHeaders = { ABCAuthorization: `Bearer ${token}` };

/** The folder shown, relative to home ('' is home). */
let folder = '';
const transfers = [];
const waiting = [];
let running = 0;

function human(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function duration(seconds) {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}

const joinPath = (...parts) => parts.filter(Boolean).join('/');

function say(text, bad = false) {
  $('message').textContent = text;
  $('message').className = bad ? 'bad' : '';
}

/** What the agent answered, in words: its JSON `data`, its tus text, or the status. */
async function reasonOf(response) {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (typeof body.data === 'string') return body.data;
    if (Array.isArray(body.errors)) return body.errors.map((e) => e.msg).join('; ');
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return text || `${response.status} ${response.statusText}`;
}

function tusReason(err) {
  const response = err.originalResponse;
  if (!response) return navigator.onLine ? `connection lost (${err.message.split('\n')[0]})` : 'offline';
  const status = response.getStatus();
  const body = (response.getBody() || '').trim();
  const words =
    status === 413
      ? 'too large for the upload limit'
      : status === 507
        ? 'the disk is full'
        : status === 403
          ? 'refused'
          : status === 401
            ? 'not authorised (token)'
            : status === 410
              ? 'expired on the server: upload it again'
              : `failed (${status})`;
  return body && !body.startsWith('<') ? `${words}: ${body}` : words;
}

// ---- transfers

function renderTransfer(t) {
  if (!t.row) {
    t.row = document.createElement('div');
    t.row.className = 'transfer';
    t.row.innerHTML =
      '<div class="top"><span class="name"></span><button type="button" class="cancel">Cancel</button></div><progress max="1" value="0"></progress><div class="info"></div>';
    t.row.querySelector('.name').textContent = t.path;
    t.row.querySelector('.cancel').onclick = () => cancel(t);
    $('transfers').prepend(t.row);
  }
  t.row.classList.toggle('failed', t.state === 'failed');
  t.row.querySelector('progress').value = t.total ? t.sent / t.total : 0;
  t.row.querySelector('.cancel').hidden = t.state === 'done' || t.state === 'failed' || t.state === 'cancelled';
  const info = t.row.querySelector('.info');
  if (t.state === 'done')
    info.textContent = `${human(t.total)} uploaded${t.savedAs && t.savedAs !== t.path ? `, saved as ${t.savedAs} (the name was taken)` : ''}`;
  else if (t.state === 'failed') info.textContent = `not uploaded: ${t.reason}`;
  else if (t.state === 'cancelled') info.textContent = 'cancelled';
  else if (t.state === 'waiting') info.textContent = `waiting (${human(t.total)})`;
  else {
    const left = t.rate > 0 ? (t.total - t.sent) / t.rate : Infinity;
    const retry = t.retrying ? ` · connection lost, retrying (${t.retrying})` : '';
    const resumed = t.resumedAt ? ` · resumed at ${human(t.resumedAt)}` : '';
    info.textContent = `${human(t.sent)} of ${human(t.total)} · ${human(t.rate)}/s · ${duration(left)} left${resumed}${retry}`;
  }
  renderOverall();
}

function renderOverall() {
  const active = transfers.filter((t) => t.state !== 'cancelled');
  const busy = active.some((t) => t.state === 'uploading' || t.state === 'waiting');
  $('overall').hidden = active.length === 0;
  const total = active.reduce((n, t) => n + t.total, 0);
  const sent = active.reduce((n, t) => n + (t.state === 'done' ? t.total : t.sent), 0);
  const done = active.filter((t) => t.state === 'done').length;
  const failed = active.filter((t) => t.state === 'failed').length;
  $('overall-bar').value = total ? sent / total : 0;
  $('overall-text').textContent =
    `${done} of ${active.length} files uploaded${failed ? `, ${failed} failed` : ''} · ${human(sent)} of ${human(total)}${busy ? '' : ' · done'}`;
}

function start(t) {
  running += 1;
  t.state = 'uploading';
  t.startedAt = performance.now();
  let lastBytes = 0;
  let lastAt = performance.now();
  const upload = new Upload(t.file, {
    endpoint: `${base}/uploads`,
    headers: authHeaders,
    metadata: { fullPath: t.path, filename: t.file.name, filetype: t.file.type },
    // an upload cut midway (network, agent restart) is retried from the server's offset
    retryDelays: [0, 500, 1000, 2000, 3000, 5000, 5000, 10000, 10000, 20000, 30000],
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onShouldRetry: (err, attempt) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      t.retrying = attempt + 1;
      renderTransfer(t);
      return status === 0 || status === 409 || status === 423 || status >= 500;
    },
    onProgress: (sent, total) => {
      const now = performance.now();
      if (now - lastAt > 250) {
        const rate = ((sent - lastBytes) * 1000) / (now - lastAt);
        t.rate = t.rate ? t.rate * 0.7 + rate * 0.3 : rate;
        lastBytes = sent;
        lastAt = now;
      }
      if (t.resuming && t.resumedAt === undefined) t.resumedAt = sent;
      if (sent > t.sent) t.retrying = 0;
      t.sent = sent;
      t.total = total;
      renderTransfer(t);
    },
    onSuccess: (payload) => {
      const header = payload && payload.lastResponse ? payload.lastResponse.getHeader('upload-path') : null;
      t.savedAs = header ? decodeURIComponent(header) : t.path;
      t.state = 'done';
      t.sent = t.total;
      finish(t);
      list();
    },
    onError: (err) => {
      t.state = 'failed';
      t.reason = tusReason(err);
      finish(t);
    },
  });
  t.upload = upload;
  upload.findPreviousUploads().then((previous) => {
    if (t.state !== 'uploading') return;
    if (previous.length > 0) {
      upload.resumeFromPreviousUpload(previous[0]);
      t.resuming = true;
    }
    upload.start();
  });
  renderTransfer(t);
}

function finish(t) {
  running -= 1;
  renderTransfer(t);
  pump();
}

function pump() {
  while (running < PARALLEL && waiting.length) start(waiting.shift());
}

function cancel(t) {
  if (t.state === 'waiting') waiting.splice(waiting.indexOf(t), 1);
  const wasRunning = t.state === 'uploading';
  t.state = 'cancelled';
  if (t.upload) t.upload.abort(true).catch(() => undefined);
  if (wasRunning) finish(t);
  else renderTransfer(t);
}

/** Queues files; `relative` is each one's path under the folder shown (kept from a dropped folder's structure). */
function enqueue(items) {
  for (const { file, relative } of items) {
    const t = { file, path: joinPath(folder, relative), total: file.size, sent: 0, rate: 0, state: 'waiting' };
    transfers.push(t);
    waiting.push(t);
    renderTransfer(t);
  }
  pump();
}

// ---- drop and pick

function readAll(reader) {
  return new Promise((resolve, reject) => {
    const all = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function filesOf(entry, prefix) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{ file, relative: joinPath(prefix, entry.name) }];
  }
  const children = await readAll(entry.createReader());
  const nested = await Promise.all(children.map((child) => filesOf(child, joinPath(prefix, entry.name))));
  return nested.flat();
}

document.addEventListener('dragover', (event) => {
  event.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', (event) => {
  if (!event.relatedTarget) document.body.classList.remove('dragging');
});
document.addEventListener('drop', async (event) => {
  event.preventDefault();
  document.body.classList.remove('dragging');
  const items = [...(event.dataTransfer.items || [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  if (entries.length && entries.every(Boolean)) {
    const found = await Promise.all(entries.map((e) => filesOf(e, '')));
    enqueue(found.flat());
  } else enqueue([...event.dataTransfer.files].map((file) => ({ file, relative: file.name })));
});
$('pick-files').onchange = (event) => {
  enqueue([...event.target.files].map((file) => ({ file, relative: file.name })));
  event.target.value = '';
};
$('pick-folder').onchange = (event) => {
  enqueue([...event.target.files].map((file) => ({ file, relative: file.webkitRelativePath || file.name })));
  event.target.value = '';
};

// ---- the folder's list

function renderPath() {
  const nav = $('path');
  nav.textContent = '';
  const parts = folder ? folder.split('/') : [];
  const crumbs = [{ name: 'Home', path: '' }, ...parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }))];
  crumbs.forEach((c, i) => {
    if (i > 0) nav.append(' / ');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = c.name;
    b.onclick = () => open(c.path);
    nav.append(b);
  });
}

function open(path) {
  folder = path;
  // the folder only: the token never goes back into the address
  history.replaceState(null, '', `#${new URLSearchParams({ folder }).toString()}`);
  renderPath();
  list();
}

async function download(entry) {
  const path = joinPath(folder, entry.name);
  say(`preparing ${entry.name}…`);
  const response = await fetch(`${base}?file=${encodeURIComponent(`~/${path}`)}`, { headers: authHeaders });
  if (!response.ok) return say(`${entry.name} not downloaded: ${await reasonOf(response)}`, true);
  const name = entry.type === 'folder' ? `${entry.name}.zip` : entry.name;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  say(`${name} downloaded`);
}

async function remove(entry) {
  const isFolder = entry.type === 'folder';
  if (!window.confirm(`Delete ${isFolder ? 'the folder' : ''} ${entry.name}${isFolder ? ' and everything in it' : ''}?`)) return;
  const response = await fetch(base, {
    method: 'DELETE',
    headers: { ...authHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ file: `~/${joinPath(folder, entry.name)}`, recursive: isFolder }),
  });
  if (!response.ok) return say(`${entry.name} not deleted: ${await reasonOf(response)}`, true);
  say(`${entry.name} deleted`);
  list();
}

async function list() {
  const response = await fetch(`${base}/entries?directory=${encodeURIComponent(`~/${folder}`)}`, { headers: authHeaders });
  const body = $('entries');
  if (!response.ok) {
    body.textContent = '';
    return say(`the folder cannot be listed: ${await reasonOf(response)}`, true);
  }
  const showHidden = $('hidden').checked;
  const entries = (await response.json()).data
    .filter((e) => showHidden || !e.name.startsWith('.'))
    // folders first, each group by name (as the agent sent them)
    .sort((a, b) => (b.type === 'folder') - (a.type === 'folder'));
  body.textContent = '';
  if (folder) {
    const up = document.createElement('tr');
    up.innerHTML = '<td colspan="4"><button type="button" class="open">⬑ up</button></td>';
    up.querySelector('button').onclick = () => open(folder.split('/').slice(0, -1).join('/'));
    body.append(up);
  }
  for (const entry of entries) {
    const tr = document.createElement('tr');
    tr.dataset.name = entry.name;
    tr.innerHTML =
      '<td class="name"></td><td class="size"></td><td class="date"></td><td class="row-actions"><button type="button" class="download">Download</button><button type="button" class="delete">Delete</button></td>';
    const name = tr.querySelector('.name');
    if (entry.type === 'folder') {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'open';
      b.textContent = `${entry.name}/`;
      b.onclick = () => open(joinPath(folder, entry.name));
      name.append(b);
    } else name.textContent = entry.name;
    tr.querySelector('.size').textContent = entry.type === 'folder' ? '' : human(entry.size);
    tr.querySelector('.date').textContent = new Date(entry.mtime).toLocaleString();
    tr.querySelector('.download').onclick = () => download(entry);
    tr.querySelector('.download').title = entry.type === 'folder' ? 'as a zip' : '';
    tr.querySelector('.delete').onclick = () => remove(entry);
    body.append(tr);
  }
}

$('hidden').checked = localStorage.getItem('filer.hidden') === '1';
$('hidden').onchange = () => {
  localStorage.setItem('filer.hidden', $('hidden').checked ? '1' : '0');
  list();
};
// where uploads land by default (FILER_UPLOAD_DIR) and the folders the transfer rules let the panel show
fetch(`${base}/settings`, { headers: authHeaders })
  .then((r) => (r.ok ? r.json() : undefined))
  .catch(() => undefined)
  .then((settings) => {
    const data = settings && settings.data;
    const uploadDir = data && typeof data.uploadDir === 'string' ? data.uploadDir.replace(/^~\/?/, '') : '';
    if (data) {
      const readable = Array.isArray(data.readable) ? data.readable.join(', ') : '~';
      $('settings').textContent = `Files sent without a folder land in ~/${uploadDir}; folders shown: ${readable}.`;
    }
    open(new URLSearchParams(location.hash.slice(1)).get('folder') || uploadDir);
  });
window.filePanel = {
  transfers: () => transfers.map(({ path, total, sent, state, reason, savedAs, retrying }) => ({ path, total, sent, state, reason, savedAs, retrying })),
  open,
};
