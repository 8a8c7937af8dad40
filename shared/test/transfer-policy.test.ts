import { describe, expect, it } from 'vitest';
import { parseTransferPolicy, sniffType, TransferRefused, TransferRules } from '../src/index.js';

describe('TRANSFER_POLICY', () => {
  it('is everything allowed when unset or empty', () => {
    for (const text of [undefined, '', '{}']) {
      const rules = TransferRules.fromEnv(text);
      expect(rules.restricts('upload')).toBe(false);
      expect(() => rules.check('upload', 'x', { mime: 'application/x-msdownload', bytes: 1e12, path: 'anywhere/x' })).not.toThrow();
    }
  });

  it('names the key of a bad setting', () => {
    expect(() => parseTransferPolicy('{"upload":{"maxBytes":-1}}')).toThrow(/^TRANSFER_POLICY\/upload\/maxBytes: /);
    expect(() => parseTransferPolicy('{"download":{"allow":["not a type"]}}')).toThrow(/^TRANSFER_POLICY\/download\/allow\/0: /);
    expect(() => parseTransferPolicy('{"print":{"paths":["x"]}}')).toThrow(/^TRANSFER_POLICY\/print\/paths: is not a known key/);
    expect(() => parseTransferPolicy('{"upload":')).toThrow(/^TRANSFER_POLICY is not JSON/);
  });

  it('decides types with wildcards, deny before allow', () => {
    const rules = new TransferRules(parseTransferPolicy('{"upload":{"allow":["image/*","text/plain"],"deny":["image/svg+xml"]}}'));
    expect(rules.refusesType('upload', 'image/png')).toBeUndefined();
    expect(rules.refusesType('upload', 'text/plain')).toBeUndefined();
    expect(rules.refusesType('upload', 'image/svg+xml')).toBe('upload.deny image/svg+xml (the content is image/svg+xml)');
    expect(rules.refusesType('upload', 'application/pdf')).toBe('upload.allow does not list application/pdf');
  });

  it('confines paths to the listed folders of home, with a folder boundary', () => {
    const rules = new TransferRules(parseTransferPolicy('{"download":{"paths":["~/Documents","Desktop/"]}}'));
    expect(rules.refusesPath('download', 'Documents/a/b.txt')).toBeUndefined();
    expect(rules.refusesPath('download', 'Desktop')).toBeUndefined();
    expect(rules.refusesPath('download', 'DocumentsX/a.txt')).toBe('download.paths does not include DocumentsX/a.txt');
    expect(rules.folderVisible('download', '')).toBe(true);
    expect(rules.folderVisible('download', 'Music')).toBe(false);
    const refusal = (() => {
      try {
        rules.check('download', 'Music/a.mp3', { path: 'Music/a.mp3', bytes: 3 });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(TransferRefused);
    expect((refusal as TransferRefused).message).toBe('download of Music/a.mp3 refused: download.paths does not include Music/a.mp3');
  });

  it('sniffs the content, never the name: an executable, a PDF, text, binary, nothing', async () => {
    const exe = Buffer.alloc(512);
    exe.write('MZ');
    exe.writeUInt32LE(0x80, 0x3c);
    exe.write('PE\0\0', 0x80, 'latin1');
    expect(await sniffType(exe)).toBe('application/x-msdownload');
    expect(await sniffType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(await sniffType(Buffer.from('héllo, words\n'))).toBe('text/plain');
    expect(await sniffType(Buffer.from([0x00, 0x01, 0xfe, 0xff]))).toBe('application/octet-stream');
    expect(await sniffType(Buffer.alloc(0))).toBe('application/x-empty');
  });
});
