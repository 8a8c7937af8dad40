import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import ipp from 'ipp';
import { MissingComponentError, requireCommand, startCups, startPulse, startXvfb, xdpyinfo } from '@desktop-agents/tools/harness';

function getPrinterAttributes(uri: string): Promise<Record<string, unknown>> {
  const printer = new ipp.Printer(uri);
  const request: ipp.GetPrinterAttributesRequest = { 'operation-attributes-tag': { 'requesting-user-name': 'test', 'requested-attributes': ['all'] } };
  return new Promise((resolve, reject) => {
    printer.execute('Get-Printer-Attributes', request, (err, res) => {
      if (err) reject(err);
      else resolve(res as unknown as Record<string, unknown>);
    });
  });
}

describe('harness', () => {
  it('names the Debian package when a command is missing', () => {
    expect(() => requireCommand('no-such-command-here', 'no-such-package')).toThrow(MissingComponentError);
    expect(() => requireCommand('no-such-command-here', 'no-such-package')).toThrow(/apt-get install no-such-package/);
  });

  it('starts Xvfb on a free display and stops it', async () => {
    const x = await startXvfb();
    const number = x.display.slice(1);
    expect(await xdpyinfo(x.display)).toMatch(/dimensions:\s+1280x800 pixels/);
    expect(existsSync(`/tmp/.X11-unix/X${number}`)).toBe(true);
    await x.stop();
    expect(x.xvfb.running).toBe(false);
    await expect(xdpyinfo(x.display)).rejects.toThrow();
  });

  it('starts two X servers side by side, one with openbox', async () => {
    const [a, b] = await Promise.all([startXvfb(), startXvfb({ windowManager: true })]);
    try {
      expect(a.display).not.toBe(b.display);
      expect(b.windowManager?.running).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(b.windowManager?.running).toBe(false);
  });

  it('starts PulseAudio with a null sink on a private socket, restarts and stops it', async () => {
    const pulse = await startPulse();
    try {
      expect(await pulse.pactl('list', 'short', 'sinks')).toMatch(/\bdesktop\b/);
      expect(await pulse.pactl('info')).toMatch(/Default Sink: desktop/);
      await pulse.kill();
      await expect(pulse.pactl('info')).rejects.toThrow();
      await pulse.restart();
      expect(await pulse.pactl('list', 'short', 'sinks')).toMatch(/\bdesktop\b/);
    } finally {
      await pulse.stop();
    }
    await expect(pulse.pactl('info')).rejects.toThrow();
    expect(existsSync(pulse.socket)).toBe(false);
  });

  it('starts cupsd with a cups-pdf queue that answers Get-Printer-Attributes over IPP', async () => {
    const cups = await startCups();
    try {
      const res = await getPrinterAttributes(cups.printerUri);
      expect(res['statusCode']).toBe('successful-ok');
      const attributes = res['printer-attributes-tag'] as Record<string, unknown>;
      expect(attributes['printer-name']).toBe(cups.printer);
      expect(attributes['printer-is-accepting-jobs']).toBe(true);
      expect(attributes['printer-state']).toBe('idle');
    } finally {
      await cups.stop();
    }
    await expect(getPrinterAttributes(cups.printerUri)).rejects.toThrow();
  });
});
