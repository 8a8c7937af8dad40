/**
 * What names a secret, in an env variable, a JSON key or a header, whatever its case or separators: `AUTH_TOKEN`,
 * `accessToken`, `id_token`, `X-Auth-Token`, `client-secret`, `PASSWORD`, `Cookie`, `Authorization`... The one rule
 * the agents apply to a child's env, to what getenv shows and to what the bus relays.
 */
const SECRET_WORDS = ['token', 'secret', 'password', 'passwd', 'cookie', 'authorization', 'privatekey', 'credential', 'apikey'];
/** Names that say nothing of a secret in their words but are one. */
const SECRET_NAMES = new Set(['jwt', 'jwtpublickey', 'xauthkey', 'vncpass']);

const folded = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

export function isSecretName(name: string): boolean {
  const words = folded(name);
  return SECRET_NAMES.has(words) || SECRET_WORDS.some((word) => words.includes(word));
}

/** A configured secret is looked for inside longer strings ("Bearer <token>") only from this length (no false hits). */
const FOUND_INSIDE_FROM = 16;

export interface SecretStripper {
  /** A copy without secret-named keys and without string values that are (or hold) a configured secret. */
  strip<T>(value: T): T;
}

/**
 * Strips credentials from a JSON value at any depth, by the name rule and by value (the pod's own secrets wherever
 * they appear). What is nested deeper than `maxDepth` is dropped, since it could hide one; an array element that is
 * dropped becomes null (the other elements keep their places).
 */
export function secretStripper(secrets: ReadonlyArray<string | undefined>, maxDepth: number): SecretStripper {
  const known = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
  const isSecretValue = (text: string) => known.some((secret) => text === secret || (secret.length >= FOUND_INSIDE_FROM && text.includes(secret)));
  const strip = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return isSecretValue(value) ? undefined : value;
    if (value === null || typeof value !== 'object') return value;
    if (depth >= maxDepth) return undefined;
    if (Array.isArray(value)) return value.map((v: unknown) => strip(v, depth + 1) ?? null);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (isSecretName(key)) continue;
      const kept = strip(v, depth + 1);
      if (kept !== undefined) out[key] = kept;
    }
    return out;
  };
  return { strip: <T>(value: T) => strip(value, 0) as T };
}
