// The desktop's sound in the browser: hear the desktop (Opus through WebCodecs when the browser decodes it, else
// raw PCM) through a jitter buffer the user sets, and talk into the desktop's microphone.
// window.desktopSound exposes the state (and a way to talk from any audio node) for tests and embedding pages.
// Bundled at build time (build/bundle-page.mjs).
import { accessToken } from '@desktop-agents/kit/page/access-token';

(function () {
  'use strict';
  var $ = function (id) {
    return document.getElementById(id);
  };
  var STORE = 'desktop-sound.jitter-ms';
  var state = {
    codec: 'none',
    kbps: 0,
    bufferedMs: 0,
    underruns: 0,
    skipped: 0,
    /** When each loud onset was rendered in the page (epoch ms), and when the device played it. */
    clicks: [],
    heard: [],
    /** When each loud onset arrived decoded, before the jitter buffer (epoch ms). */
    arrived: [],
    talking: false,
    closed: null,
  };
  var ctx = null;
  var player = null;
  var listenSocket = null;
  var talk = null;

  function token() {
    return accessToken('desktop-sound.token');
  }

  function socketUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path + '?jwt_token=' + encodeURIComponent(token());
  }

  function jitterMs() {
    var saved = Number(localStorage.getItem(STORE));
    return saved >= 10 && saved <= 500 ? saved : 20;
  }

  /**
   * The epoch time (ms) at which a context time is heard, from the output's own timestamp (which includes the
   * device's output latency), and the time it was rendered in the page (what an analyser sees): what the latency
   * tests compare with the desktop's clock.
   */
  function heardAt(contextTime) {
    var stamp = ctx.getOutputTimestamp();
    return epochOf(stamp.performanceTime + (contextTime - stamp.contextTime) * 1000);
  }

  /** A performance.now() time on the wall clock: read from Date.now() each time (timeOrigin can be tens of ms off). */
  function epochOf(performanceTime) {
    return performanceTime + (Date.now() - performance.now());
  }

  function outputLatencyMs() {
    return ((ctx.outputLatency || 0) + ctx.baseLatency) * 1000;
  }

  async function audio() {
    if (ctx) return ctx;
    ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
    await ctx.audioWorklet.addModule('sound-worklets.js');
    player = new AudioWorkletNode(ctx, 'desktop-player', { outputChannelCount: [2] });
    player.connect(ctx.destination);
    player.port.onmessage = function (event) {
      var m = event.data;
      if (typeof m.click === 'number') {
        var heard = heardAt(m.click);
        state.heard.push(heard);
        state.clicks.push(heard - outputLatencyMs());
      } else {
        state.bufferedMs = m.buffered * 1000;
        state.underruns = m.underruns;
        state.skipped = m.skipped;
        render();
      }
    };
    player.port.postMessage({ target: jitterMs() / 1000 });
    return ctx;
  }

  var loud = false;
  /** Hands decoded samples to the player, noting when a loud onset arrived (the breakdown the latency bench shows). */
  function play(mono, rate) {
    var peak = 0;
    for (var i = 0; i < mono.length; i++) peak = Math.max(peak, Math.abs(mono[i]));
    if (peak > 0.3 && !loud) state.arrived.push(Date.now());
    loud = peak > 0.3;
    player.port.postMessage({ samples: mono, rate: rate }, [mono.buffer]);
  }

  function toMono(planes) {
    if (planes.length === 1) return planes[0];
    var mono = new Float32Array(planes[0].length);
    for (var i = 0; i < mono.length; i++) {
      var sum = 0;
      for (var c = 0; c < planes.length; c++) sum += planes[c][i];
      mono[i] = sum / planes.length;
    }
    return mono;
  }

  async function opusSupported() {
    if (typeof AudioDecoder === 'undefined') return false;
    try {
      return (await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: 48000, numberOfChannels: 1 })).supported === true;
    } catch {
      return false;
    }
  }

  function pcmDecoder(format) {
    return function (data) {
      var pcm = new Int16Array(data);
      var frames = pcm.length / format.channels;
      var mono = new Float32Array(frames);
      for (var i = 0; i < frames; i++) {
        var sum = 0;
        for (var c = 0; c < format.channels; c++) sum += pcm[i * format.channels + c];
        mono[i] = sum / format.channels / 32768;
      }
      play(mono, format.rate);
    };
  }

  function opusDecoder(format) {
    var frame = 0;
    var decoder = new AudioDecoder({
      output: function (data) {
        var planes = [];
        for (var c = 0; c < data.numberOfChannels; c++) {
          var plane = new Float32Array(data.numberOfFrames);
          data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
          planes.push(plane);
        }
        var rate = data.sampleRate;
        data.close();
        play(toMono(planes), rate);
      },
      error: function (err) {
        $('status').textContent = 'Opus decoder failed: ' + err.message;
      },
    });
    decoder.configure({ codec: 'opus', sampleRate: format.rate, numberOfChannels: format.channels });
    return function (data) {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: frame++ * format.frameMs * 1000, data: data }));
    };
  }

  async function listen() {
    if (listenSocket) return stopListening();
    await audio();
    await ctx.resume();
    var wanted = $('codec').value;
    if (wanted === 'auto') wanted = (await opusSupported()) ? 'opus' : 'pcm';
    var ws = new WebSocket(socketUrl('/sound/listen'));
    ws.binaryType = 'arraybuffer';
    listenSocket = ws;
    var decode = null;
    var bytes = 0;
    var since = performance.now();
    ws.onmessage = function (event) {
      if (typeof event.data === 'string') {
        var format = JSON.parse(event.data);
        if (format.codec === 'opus') {
          decode = opusDecoder(format);
          state.codec = 'opus ' + format.bitrate / 1000 + ' kbit/s, ' + format.frameMs + ' ms frames';
        } else {
          decode = pcmDecoder(format);
          state.codec = 'PCM ' + format.rate + ' Hz';
          if (wanted === 'opus') {
            ws.send(JSON.stringify({ type: 'format', codec: 'opus', frameMs: Number($('frame').value), bitrate: Number($('bitrate').value) }));
          }
        }
        render();
        return;
      }
      bytes += event.data.byteLength;
      var now = performance.now();
      if (now - since > 2000) {
        state.kbps = Math.round((bytes * 8) / (now - since));
        bytes = 0;
        since = now;
      }
      if (decode) decode(event.data);
    };
    ws.onclose = function (event) {
      if (listenSocket === ws) listenSocket = null;
      state.closed = { code: event.code, reason: event.reason };
      state.codec = 'none';
      render();
    };
    render();
  }

  function stopListening() {
    if (listenSocket) listenSocket.close(1000, 'stopped by the user');
    listenSocket = null;
  }

  /** Talks into the desktop's microphone from `node` (an AudioNode of this page's context), 10 ms per message. */
  async function talkFrom(node, stop) {
    await audio();
    var ws = new WebSocket(socketUrl('/sound/microphone'));
    ws.binaryType = 'arraybuffer';
    var tap = new AudioWorkletNode(ctx, 'microphone-tap', { processorOptions: { frames: ctx.sampleRate / 100 } });
    var sink = ctx.createGain();
    sink.gain.value = 0;
    node.connect(tap).connect(sink).connect(ctx.destination);
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: 'format', rate: ctx.sampleRate, channels: 1, format: 'f32le' }));
      tap.port.onmessage = function (event) {
        // a socket that cannot keep up loses audio here rather than queueing it
        if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 32768) ws.send(event.data);
      };
    };
    var end = function () {
      tap.port.onmessage = null;
      node.disconnect(tap);
      tap.disconnect();
      if (ws.readyState <= WebSocket.OPEN) ws.close(1000, 'microphone off');
      if (stop) stop();
      talk = null;
      state.talking = false;
      render();
    };
    ws.onclose = function (event) {
      if (event.code !== 1000) $('status').textContent = 'microphone: ' + (event.reason || 'closed ' + event.code);
      if (talk && talk.ws === ws) end();
    };
    talk = { ws: ws, end: end };
    state.talking = true;
    render();
  }

  async function microphone() {
    if (talk) return talk.end();
    await audio();
    await ctx.resume();
    try {
      var stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      await talkFrom(ctx.createMediaStreamSource(stream), function () {
        stream.getTracks().forEach(function (t) {
          t.stop();
        });
      });
    } catch (err) {
      $('status').textContent = 'microphone: ' + err.message;
    }
  }

  function render() {
    $('listen').textContent = listenSocket ? 'Stop listening' : 'Listen to the desktop';
    $('mic').textContent = talk ? 'Microphone off' : 'Microphone on';
    $('mic').setAttribute('aria-pressed', String(Boolean(talk)));
    var out = ctx ? Math.round(outputLatencyMs()) : 0;
    $('jitter-value').textContent = jitterMs() + ' ms';
    $('latency').textContent =
      'buffer adds ' + jitterMs() + ' ms (now ' + Math.round(state.bufferedMs) + ' ms queued), output ' + out + ' ms; ' + state.underruns + ' gaps';
    $('stream').textContent = state.codec + (state.kbps ? ', ' + state.kbps + ' kbit/s' : '');
  }

  $('jitter').value = String(jitterMs());
  $('jitter').oninput = function () {
    localStorage.setItem(STORE, $('jitter').value);
    if (player) player.port.postMessage({ target: jitterMs() / 1000 });
    render();
  };
  $('listen').onclick = listen;
  $('mic').onclick = microphone;
  render();
  window.desktopSound = {
    state: state,
    listen: listen,
    stopListening: stopListening,
    talkFrom: talkFrom,
    context: audio,
    stopTalking: function () {
      if (talk) talk.end();
    },
  };
})();
