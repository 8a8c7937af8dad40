// The type of a content from its first bytes (file-type's signatures, loaded on first use), never from a name or a
// declared type: what the transfer rules decide on.

/** How many first bytes the signatures need (file-type reads at most this many for any type). */
export const SNIFF_BYTES = 4100;

type FileTypeFromBuffer = (buffer: Uint8Array) => Promise<{ mime: string } | undefined>;
let detector: Promise<FileTypeFromBuffer> | undefined;

/** Text: no NUL byte and valid UTF-8 (a character cut at the end of the head allowed). */
function looksLikeText(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** The MIME type of a content from its first SNIFF_BYTES (or all of it when shorter). */
export async function sniffType(head: Uint8Array): Promise<string> {
  if (head.length === 0) return 'application/x-empty';
  const fromBuffer = await (detector ??= import('file-type').then((m) => m.fileTypeFromBuffer as FileTypeFromBuffer));
  const found = await fromBuffer(head.subarray(0, SNIFF_BYTES));
  if (found) return found.mime;
  return looksLikeText(head.subarray(0, SNIFF_BYTES)) ? 'text/plain' : 'application/octet-stream';
}
