import type { Readable } from 'node:stream';
import { fastestCrc32 } from './crc32.js';

/**
 * A streaming writer of stored (uncompressed) zip entries: each file's data passes through once, its CRC-32 from the
 * fastest one this machine has (crc32.ts: yazl's JavaScript CRC held a zip near 230 MiB/s here, zlib's near 770), its
 * sizes and CRC after it in a data descriptor, everything again in the central directory. ZIP64 records are written
 * only where a size, an offset or the entry count needs them (PKWARE APPNOTE 6.3.10: 4.3.7 local header, 4.3.9 data
 * descriptor, 4.3.12 central directory, 4.3.14–16 end records, 4.5.3 ZIP64 extra field). Names are UTF-8 (flag bit 11).
 */

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END = 0x06054b50;
const UTF8 = 0x0800;
const SIZES_FOLLOW = 0x0008;
const MADE_BY_UNIX = 3 << 8;
const VERSION_ZIP64 = 45;
const VERSION_DEFAULT = 20;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

/** What a file entry is read from once its turn comes: its data, and the time and mode to record. */
export interface OpenedZipFile {
  data: Readable;
  mtime: Date;
  mode: number;
}

export type ZipEntry =
  | { kind: 'folder'; name: string; mtime?: Date }
  | { kind: 'file'; name: string; open(): Promise<OpenedZipFile> }
  | { kind: 'buffer'; name: string; data: Buffer; mtime?: Date };

interface Written {
  name: Buffer;
  folder: boolean;
  flags: number;
  mode: number;
  time: number;
  date: number;
  crc: number;
  size: number;
  offset: number;
}

export interface ZipWriterOptions {
  /** Above this a size or offset is written in ZIP64 form; only tests lower it. */
  zip64Above?: number;
}

/** DOS date and time (local time, 2 s resolution; 1980 at the earliest). */
function dosDateTime(at: Date): { time: number; date: number } {
  const year = Math.max(1980, at.getFullYear());
  return {
    time: (at.getHours() << 11) | (at.getMinutes() << 5) | Math.floor(at.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getMonth() + 1) << 5) | at.getDate(),
  };
}

function localHeader(entry: Written): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(LOCAL_HEADER, 0);
  // a file's sizes are not known yet: they follow its data, in ZIP64 form when needed, as the central directory says
  header.writeUInt16LE(VERSION_DEFAULT, 4);
  header.writeUInt16LE(entry.flags, 6);
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt16LE(entry.time, 10);
  header.writeUInt16LE(entry.date, 12);
  // crc and sizes: 0 here (bit 3), or the known values of a buffer or folder
  header.writeUInt32LE(entry.flags & SIZES_FOLLOW ? 0 : entry.crc, 14);
  header.writeUInt32LE(entry.flags & SIZES_FOLLOW ? 0 : entry.size, 18);
  header.writeUInt32LE(entry.flags & SIZES_FOLLOW ? 0 : entry.size, 22);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, entry.name]);
}

function dataDescriptor(entry: Written, zip64: boolean): Buffer {
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(DATA_DESCRIPTOR, 0);
  d.writeUInt32LE(entry.crc, 4);
  if (zip64) {
    d.writeBigUInt64LE(BigInt(entry.size), 8);
    d.writeBigUInt64LE(BigInt(entry.size), 16);
  } else {
    d.writeUInt32LE(entry.size, 8);
    d.writeUInt32LE(entry.size, 12);
  }
  return d;
}

function centralHeader(entry: Written, above: number): Buffer {
  const bigSize = entry.size > above;
  const bigOffset = entry.offset > above;
  // ZIP64 extra: the 8-byte values of the fields set to 0xFFFFFFFF, in this order
  const extraValues = [...(bigSize ? [entry.size, entry.size] : []), ...(bigOffset ? [entry.offset] : [])];
  const extra = Buffer.alloc(extraValues.length ? 4 + 8 * extraValues.length : 0);
  if (extraValues.length) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(8 * extraValues.length, 2);
    extraValues.forEach((v, i) => extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  }
  const zip64 = extraValues.length > 0;
  const h = Buffer.alloc(46);
  h.writeUInt32LE(CENTRAL_HEADER, 0);
  h.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 4);
  h.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
  h.writeUInt16LE(entry.flags, 8);
  h.writeUInt16LE(0, 10);
  h.writeUInt16LE(entry.time, 12);
  h.writeUInt16LE(entry.date, 14);
  h.writeUInt32LE(entry.crc, 16);
  h.writeUInt32LE(bigSize ? MAX32 : entry.size, 20);
  h.writeUInt32LE(bigSize ? MAX32 : entry.size, 24);
  h.writeUInt16LE(entry.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt16LE(0, 32); // comment
  h.writeUInt16LE(0, 34); // disk
  h.writeUInt16LE(0, 36); // internal attributes
  // unix mode in the high half, the MS-DOS folder bit in the low one
  h.writeUInt32LE((((entry.mode & 0xffff) << 16) | (entry.folder ? 0x10 : 0)) >>> 0, 38);
  h.writeUInt32LE(bigOffset ? MAX32 : entry.offset, 42);
  return Buffer.concat([h, entry.name, extra]);
}

function endRecords(count: number, directoryOffset: number, directorySize: number, above: number): Buffer[] {
  const zip64 = count > Math.min(MAX16 - 1, above) || directoryOffset > above || directorySize > above;
  const records: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(ZIP64_END, 0);
    record.writeBigUInt64LE(44n, 4); // the size of what follows this field
    record.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    record.writeUInt32LE(0, 16);
    record.writeUInt32LE(0, 20);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(ZIP64_LOCATOR, 0);
    locator.writeUInt32LE(0, 4);
    locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
    locator.writeUInt32LE(1, 16);
    records.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  end.writeUInt16LE(zip64 ? MAX16 : count, 8);
  end.writeUInt16LE(zip64 ? MAX16 : count, 10);
  end.writeUInt32LE(zip64 ? MAX32 : directorySize, 12);
  end.writeUInt32LE(zip64 ? MAX32 : directoryOffset, 16);
  records.push(end);
  return records;
}

/**
 * The bytes of a zip of `entries`, in order, produced as they are read (a file is opened only when its turn comes).
 * An entry whose stream fails ends the zip with that error.
 */
export async function* zipBytes(entries: Iterable<ZipEntry>, options: ZipWriterOptions = {}): AsyncGenerator<Buffer> {
  const above = options.zip64Above ?? MAX32 - 1;
  const crc32 = fastestCrc32();
  const written: Written[] = [];
  let offset = 0;
  for (const entry of entries) {
    const folder = entry.kind === 'folder';
    const opened = entry.kind === 'file' ? await entry.open() : undefined;
    try {
      const { time, date } = dosDateTime(opened?.mtime ?? (entry.kind === 'file' ? undefined : entry.mtime) ?? new Date());
      const record: Written = {
        name: Buffer.from(folder && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name),
        folder,
        flags: UTF8 | (opened ? SIZES_FOLLOW : 0),
        mode: folder ? 0o40755 : 0o100000 | ((opened?.mode ?? 0o644) & 0o7777),
        time,
        date,
        crc: entry.kind === 'buffer' ? crc32(entry.data) : 0,
        size: entry.kind === 'buffer' ? entry.data.length : 0,
        offset,
      };
      const header = localHeader(record);
      offset += header.length;
      yield header;
      if (entry.kind === 'buffer') {
        offset += entry.data.length;
        yield entry.data;
      } else if (opened) {
        for await (const chunk of opened.data) {
          const data = chunk as Buffer;
          record.crc = crc32(data, record.crc);
          record.size += data.length;
          offset += data.length;
          yield data;
        }
        const descriptor = dataDescriptor(record, record.size > above);
        offset += descriptor.length;
        yield descriptor;
      }
      written.push(record);
    } finally {
      // a zip abandoned midway (the client went away) closes the file it was reading
      opened?.data.destroy();
    }
  }
  const directoryOffset = offset;
  let directorySize = 0;
  for (const record of written) {
    const header = centralHeader(record, above);
    directorySize += header.length;
    yield header;
  }
  for (const record of endRecords(written.length, directoryOffset, directorySize, above)) yield record;
}
