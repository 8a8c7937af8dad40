// The two ways an operator runs our agents: abcdesktop's own rule (a drop-in swap; callers on the pod's address
// pass) and token mode (the default). Each conformance file runs its wire contract in both.
export const TOKEN = 'conformance-token-000001';

export interface Mode {
  name: 'abcdesktop' | 'token';
  env: Record<string, string>;
  /** What the web UI sends on HTTP requests in this mode. */
  headers: Record<string, string>;
  /** The query a WebSocket upgrade carries (`jwt_token=...` or the raw token). */
  wsQuery(raw?: boolean): string;
}

export const MODES: Mode[] = [
  { name: 'abcdesktop', env: { AUTH_MODE: 'abcdesktop' }, headers: {}, wsQuery: () => '' },
  {
    name: 'token',
    env: { AUTH_MODE: 'token', AUTH_TOKEN: TOKEN },
    headers: { abcauthorization: `Bearer ${TOKEN}` },
    wsQuery: (raw = false) => (raw ? TOKEN : `jwt_token=${TOKEN}`),
  },
];

export async function call(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; json?: unknown; body?: RequestInit['body'] } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
