// Transfer rules (TRANSFER_POLICY): per direction, which types may pass (decided on the content, never the name),
// how large, and for uploads and downloads which folders of home. One setting for the filer, the printerfile agent and
// the spawner's clipboard; validated at start, a bad one stops the agent naming the key.
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

export const TRANSFER_DIRECTIONS = ['upload', 'download', 'clipboardIn', 'clipboardOut', 'print'] as const;
export type TransferDirection = (typeof TRANSFER_DIRECTIONS)[number];

const MIME_PATTERN = '^([a-z0-9][a-z0-9!#$&^_.+-]*|\\*)/([a-z0-9][a-z0-9!#$&^_.+-]*|\\*)$';
const mimeList = Type.Array(Type.String({ pattern: MIME_PATTERN }), { maxItems: 200 });
const typeAndSize = {
  allow: Type.Optional(mimeList),
  deny: Type.Optional(mimeList),
  maxBytes: Type.Optional(Type.Integer({ minimum: 0 })),
};
const selectionRules = Type.Object(typeAndSize, { additionalProperties: false });
const fileRules = Type.Object(
  { ...typeAndSize, paths: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 200 })) },
  { additionalProperties: false },
);

const PolicySchema = Type.Object(
  {
    upload: Type.Optional(fileRules),
    download: Type.Optional(fileRules),
    clipboardIn: Type.Optional(selectionRules),
    clipboardOut: Type.Optional(selectionRules),
    print: Type.Optional(selectionRules),
  },
  { additionalProperties: false },
);

export type TransferPolicy = Static<typeof PolicySchema>;

export interface DirectionRules {
  allow?: string[];
  deny?: string[];
  maxBytes?: number;
  paths?: string[];
}

const WHAT: Record<TransferDirection, string> = {
  upload: 'upload of',
  download: 'download of',
  clipboardIn: 'clipboard from the browser:',
  clipboardOut: 'clipboard to the browser:',
  print: 'print of',
};

/** A refusal: what was refused and by which rule (the text the HTTP answer, the tus reply and the bus error carry). */
export class TransferRefused extends Error {
  override name = 'TransferRefused';
  constructor(
    readonly direction: TransferDirection,
    /** The path (home-relative) or the selection refused. */
    readonly subject: string,
    readonly rule: string,
    /** What was known of the content when it was refused (for the audit trail). */
    readonly facts: { type?: string; bytes?: number } = {},
  ) {
    super(`${WHAT[direction]} ${subject} refused: ${rule}`);
  }
}

/** The setting as text → the policy; throws naming the key (TRANSFER_POLICY/upload/maxBytes) when it is not valid. */
export function parseTransferPolicy(text: string | undefined): TransferPolicy {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`TRANSFER_POLICY is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const first = [...Value.Errors(PolicySchema, value)].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  if (first) {
    // a key the schema does not know is reported at its own path (a `false` schema there)
    const unknownKey = first.keyword === 'boolean' || first.keyword === 'additionalProperties';
    const extra = (first.params as { additionalProperties?: string[] }).additionalProperties;
    const key = `TRANSFER_POLICY${first.instancePath}${first.keyword === 'additionalProperties' && extra?.length ? `/${extra[0]}` : ''}`;
    throw new Error(`${key}: ${unknownKey ? 'is not a known key' : first.message}`);
  }
  return value as TransferPolicy;
}

/** Whether `mime` is matched by a pattern (`image/*`, `*\/*`, `application/pdf`). */
function matches(pattern: string, mime: string): boolean {
  const [ptype, psub] = pattern.split('/');
  const [type, sub] = mime.toLowerCase().split('/');
  return (ptype === '*' || ptype === type) && (psub === '*' || psub === sub);
}

/** Home-relative, without `~/`, `./` or a trailing slash: how paths are compared. */
function normalized(path: string): string {
  return path
    .replace(/^~\/?/, '')
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

/** The policy's decisions, one direction at a time. */
export class TransferRules {
  constructor(readonly policy: TransferPolicy = {}) {}

  static fromEnv(text: string | undefined): TransferRules {
    return new TransferRules(parseTransferPolicy(text));
  }

  rulesOf(direction: TransferDirection): DirectionRules {
    return this.policy[direction] ?? {};
  }

  /** Whether the direction has any rule at all (none: everything passes, nothing needs sniffing). */
  restricts(direction: TransferDirection): boolean {
    const r = this.rulesOf(direction);
    return r.allow !== undefined || r.deny !== undefined || r.maxBytes !== undefined || r.paths !== undefined;
  }

  /** Whether the direction decides on the content's type (then the first bytes must be sniffed). */
  decidesOnType(direction: TransferDirection): boolean {
    const r = this.rulesOf(direction);
    return r.allow !== undefined || r.deny !== undefined;
  }

  maxBytes(direction: TransferDirection): number | undefined {
    return this.rulesOf(direction).maxBytes;
  }

  /** The rule that refuses this sniffed type, or undefined when it passes. Deny wins over allow. */
  refusesType(direction: TransferDirection, mime: string): string | undefined {
    const { allow, deny } = this.rulesOf(direction);
    const denied = deny?.find((p) => matches(p, mime));
    if (denied) return `${direction}.deny ${denied} (the content is ${mime})`;
    if (allow && !allow.some((p) => matches(p, mime))) return `${direction}.allow does not list ${mime}`;
    return undefined;
  }

  refusesSize(direction: TransferDirection, bytes: number): string | undefined {
    const max = this.maxBytes(direction);
    return max !== undefined && bytes > max ? `${direction}.maxBytes ${max} (${bytes} bytes or more)` : undefined;
  }

  /** The rule that refuses a home-relative path, or undefined when it is inside one of the direction's folders. */
  refusesPath(direction: 'upload' | 'download', homeRelative: string): string | undefined {
    const { paths } = this.rulesOf(direction);
    if (!paths) return undefined;
    const path = normalized(homeRelative);
    const inside = paths.map(normalized).some((folder) => folder === '' || path === folder || path.startsWith(`${folder}/`));
    return inside ? undefined : `${direction}.paths does not include ${path || '~'}`;
  }

  /** Whether a folder may be shown at all: it is one of the paths, inside one, or on the way to one. */
  folderVisible(direction: 'upload' | 'download', homeRelative: string): boolean {
    const { paths } = this.rulesOf(direction);
    if (!paths) return true;
    const path = normalized(homeRelative);
    return paths
      .map(normalized)
      .some((folder) => folder === '' || path === '' || path === folder || path.startsWith(`${folder}/`) || folder.startsWith(`${path}/`));
  }

  /** Throws TransferRefused for the first rule the transfer breaks (subject: the path or the selection). */
  check(direction: TransferDirection, subject: string, facts: { mime?: string; bytes?: number; path?: string }): void {
    const rule =
      (facts.path !== undefined && (direction === 'upload' || direction === 'download') ? this.refusesPath(direction, facts.path) : undefined) ??
      (facts.bytes !== undefined ? this.refusesSize(direction, facts.bytes) : undefined) ??
      (facts.mime !== undefined ? this.refusesType(direction, facts.mime) : undefined);
    if (rule) {
      throw new TransferRefused(direction, subject, rule, {
        ...(facts.mime !== undefined ? { type: facts.mime } : {}),
        ...(facts.bytes !== undefined ? { bytes: facts.bytes } : {}),
      });
    }
  }
}
