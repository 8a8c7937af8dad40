/**
 * A page's text frame on an audio socket: a JSON object `{ "type": "format", ... }`, its fields, or why it was
 * refused (the close reason the page reads).
 */
export function formatFrameFields(text: string, expected: string): Record<string, unknown> | string {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'a text message must be a JSON format frame';
  }
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return 'the format frame must be a JSON object';
  const fields = frame as Record<string, unknown>;
  if (fields['type'] !== 'format') return `the only text message is ${expected}`;
  return fields;
}
