/**
 * Whether ajv checks each of our route schemas against the JSON Schema meta-schema before compiling it: under test
 * (vitest sets NODE_ENV=test, and the agents the tests start inherit it), where a mistake in our own fixed schemas
 * must fail; not at every start of a deployed agent, where compiling the meta-schema cost ~60 ms and ~5 MiB per ajv
 * instance.
 */
export const SCHEMAS_CHECKED = process.env['NODE_ENV'] === 'test';

/** abcdesktop's port variables and their defaults: one table, used by every agent and by the pod runner. */
export const AGENT_PORTS = {
  spawner: { env: 'SPAWNER_SERVICE_TCP_PORT', port: 29786 },
  broadcast: { env: 'BROADCAST_SERVICE_TCP_PORT', port: 29784 },
  // abcdesktop 4.x's supervisor sets XTERM_TCP_PORT (the original ignores it): used when PORT is not set
  webshell: { env: 'PORT', port: 29781, alias: 'XTERM_TCP_PORT' },
  filer: { env: 'FILE_SERVICE_TCP_PORT', port: 29783 },
  // the original runs this file service on FILE_SERVICE_TCP_PORT too; PRINTERFILE_SERVICE_TCP_PORT wins when set, so
  // filer and printerfile can share one container (the all-in-one image)
  printerfile: { env: 'FILE_SERVICE_TCP_PORT', port: 29782, override: 'PRINTERFILE_SERVICE_TCP_PORT' },
  sound: { env: 'SOUND_SERVICE_TCP_PORT', port: 4714 },
} as const;

export type AgentName = keyof typeof AGENT_PORTS;

/**
 * One env setting as a JSON schema. Plain objects (not a schema builder) keep start-up memory low: a setting with a
 * `default` is always present; one without may be undefined.
 */
export type EnvSetting =
  | { type: 'string'; default?: string; minLength?: number; enum?: readonly string[]; description?: string }
  | { type: 'integer'; default?: number; minimum?: number; maximum?: number; description?: string }
  | { type: 'boolean'; default?: boolean; description?: string };

export type EnvSettings = Record<string, EnvSetting>;

type ValueOf<S> = S extends { enum: readonly (infer E)[] } ? E : S extends { type: 'integer' } ? number : S extends { type: 'boolean' } ? boolean : string;

/** The typed config an env schema describes. */
export type ConfigOf<P extends EnvSettings> = { readonly [K in keyof P as P[K] extends { default: unknown } ? K : never]: ValueOf<P[K]> } & {
  readonly [K in keyof P as P[K] extends { default: unknown } ? never : K]?: ValueOf<P[K]>;
};

/** Settings every agent reads, with abcdesktop's variable names. */
export const CommonEnv = {
  CONTAINER_IP_ADDR: { type: 'string', default: '127.0.0.1', minLength: 1 },
  LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  HOME: { type: 'string', default: '/root', minLength: 1 },
  DISPLAY: { type: 'string', default: ':0' },
  AUTH_MODE: { type: 'string', enum: ['token', 'abcdesktop'], default: 'token' },
  AUTH_TOKEN: { type: 'string', minLength: 16 },
  JWT_PUBLIC_KEY: { type: 'string', minLength: 1 },
  BROADCAST_COOKIE: { type: 'string', minLength: 1 },
  BROADCAST_SERVICE_TCP_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: AGENT_PORTS.broadcast.port },
  /** Where the bus is; defaults to ws://CONTAINER_IP_ADDR:BROADCAST_SERVICE_TCP_PORT/ as in abcdesktop. */
  BROADCAST_SERVICE_URL: { type: 'string', minLength: 1 },
  NGINX_SERVICE_HOST: { type: 'string' },
  HTTP_ROUTER_SERVICE_HOST: { type: 'string' },
  DISABLE_REMOTEIP_FILTERING: { type: 'string' },
  SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 100, default: 10_000 },
  /** GET /metrics without credentials (for a scraper inside the cluster); authenticated like every route otherwise. */
  METRICS_PUBLIC: { type: 'boolean', default: false },
  /** The status page's samples of RSS and CPU (/status; the last 60 are kept) are taken this often. */
  STATUS_SAMPLE_MS: { type: 'integer', minimum: 100, default: 5000 },
  /** Every WebSocket is pinged this often; a client that has not answered the previous ping is dropped. */
  WS_HEARTBEAT_MS: { type: 'integer', minimum: 10, default: 30_000 },
  /** Longest lifetime (exp - iat, seconds) of a desktop JWT accepted; `exp` is always required. */
  JWT_MAX_AGE: { type: 'integer', minimum: 1, default: 24 * 3600 },
  /** When set, a JWT must name this audience (`aud`) / subject (`sub`): a pod-wide key opens only this pod. */
  JWT_AUDIENCE: { type: 'string', minLength: 1 },
  JWT_SUBJECT: { type: 'string', minLength: 1 },
  /**
   * With JWT_PUBLIC_KEY and neither JWT_AUDIENCE nor JWT_SUBJECT, an agent refuses to start (a token of any desktop
   * signed with the same key would open this one) unless this says so: abcdesktop's tokens name no desktop, and its
   * router binds each to its pod (README, "Deploying into abcdesktop").
   */
  JWT_ANY_DESKTOP: { type: 'boolean', default: false },
  /** RSA desktop signing keys under this size stop the start; 1024 admits abcdesktop's default key (with a warning). */
  JWT_MIN_RSA_BITS: { type: 'integer', minimum: 1024, maximum: 16384, default: 1024 },
  /**
   * Origins (`https://host[:port]`, comma-separated) a browser may call from, beside the request's own Host and
   * https://EXTERNAL_DESKTOP_HOSTNAME. A request naming another Origin, or `Sec-Fetch-Site: cross-site`, is refused.
   */
  ALLOWED_ORIGINS: { type: 'string', default: '' },
  /** The desktop's public host name, set by abcdesktop's control plane (its router may not forward Host). */
  EXTERNAL_DESKTOP_HOSTNAME: { type: 'string' },
  /** Open TCP connections at once, in all and from one source address; past them a new one is closed at once. */
  MAX_CONNECTIONS: { type: 'integer', minimum: 1, default: 1024 },
  MAX_CONNECTIONS_PER_ADDRESS: { type: 'integer', minimum: 1, default: 512 },
  /** A request's head must arrive within this time (slowloris). */
  HTTP_HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 10_000 },
  /** A connection that sends or receives nothing for this long is closed (a slow upload that moves stays open). */
  HTTP_IDLE_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 120_000 },
  /** How long an idle keep-alive connection waits for its next request. */
  HTTP_KEEPALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 5_000 },
  /** Whole-request deadline; 0 = none (an upload of many GiB may take long, its idle time is bounded above). */
  HTTP_REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 0, default: 0 },
} as const satisfies EnvSettings;

export type CommonConfig = ConfigOf<typeof CommonEnv>;
export type AgentConfig<P extends EnvSettings> = CommonConfig & ConfigOf<P>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The keywords each kind of setting may have (anything else is a mistake in the agent's own schema). */
const KEYWORDS: Record<EnvSetting['type'], ReadonlySet<string>> = {
  string: new Set(['type', 'default', 'minLength', 'enum', 'description']),
  integer: new Set(['type', 'default', 'minimum', 'maximum', 'description']),
  boolean: new Set(['type', 'default', 'description']),
};

/** A setting's value read from its variable's text, or what is wrong with that text. */
function readSetting(setting: EnvSetting, text: string): { value: string | number | boolean } | { problem: string } {
  switch (setting.type) {
    case 'integer': {
      if (!/^[+-]?\d+$/.test(text.trim())) return { problem: 'must be integer' };
      const value = Number(text);
      if (setting.minimum !== undefined && value < setting.minimum) return { problem: `must be >= ${setting.minimum}` };
      if (setting.maximum !== undefined && value > setting.maximum) return { problem: `must be <= ${setting.maximum}` };
      return { value };
    }
    case 'boolean':
      return text === 'true' || text === 'false' ? { value: text === 'true' } : { problem: 'must be boolean (true or false)' };
    case 'string':
      if (setting.minLength !== undefined && text.length < setting.minLength) return { problem: `must NOT have fewer than ${setting.minLength} characters` };
      if (setting.enum && !setting.enum.includes(text)) return { problem: `must be one of ${setting.enum.join(', ')}` };
      return { value: text };
  }
}

/**
 * Reads the environment once at start-up against one schema: the common settings plus the agent's own. Text is read
 * as the declared type, defaults filled in, and every problem reported together in one ConfigError. Checked here by
 * hand, not by ajv: the settings are four keywords deep, and without this use ajv loads only for a route's first
 * validated request (at every start it cost ~7 MiB and ~100 ms here). An empty variable counts as unset, as in shell
 * `${X:-default}`.
 */
export function loadConfig<P extends EnvSettings>(agentEnv: P, env: NodeJS.ProcessEnv = process.env): AgentConfig<P> {
  const properties: EnvSettings = { ...CommonEnv, ...agentEnv };
  const data: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(properties)) {
    const keywords = KEYWORDS[setting.type] as ReadonlySet<string> | undefined;
    const unknown = keywords ? Object.keys(setting).filter((k) => !keywords.has(k)) : ['type'];
    if (unknown.length > 0)
      throw new Error(`the env schema is invalid: ${name} has ${unknown.map((k) => `${k} ${JSON.stringify(setting[k as keyof EnvSetting])}`).join(', ')}`);
    const text = env[name];
    if (text === undefined || text === '') {
      if (setting.default !== undefined) data[name] = setting.default;
      continue;
    }
    const read = readSetting(setting, text);
    if ('value' in read) data[name] = read.value;
    else problems.push(`${name} ${read.problem}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
  const config = data as AgentConfig<P>;
  if (config.AUTH_MODE === 'token' && !config.AUTH_TOKEN && !config.JWT_PUBLIC_KEY) {
    throw new ConfigError('AUTH_MODE=token needs AUTH_TOKEN (shared secret, 16+ chars) or JWT_PUBLIC_KEY (PEM)');
  }
  return config;
}

/**
 * The variable that gives this agent its own port even beside the others in one env (one process, one container):
 * its override where it has one (PRINTERFILE_SERVICE_TCP_PORT), else its abcdesktop variable.
 */
export function ownPortVariable(name: AgentName): string {
  const entry: { env: string; override?: string } = AGENT_PORTS[name];
  return entry.override ?? entry.env;
}

/** The agent's port from its abcdesktop variable (e.g. SPAWNER_SERVICE_TCP_PORT), or its default. */
export function agentPort(name: AgentName, env: NodeJS.ProcessEnv = process.env): number {
  const entry: { env: string; port: number; override?: string; alias?: string } = AGENT_PORTS[name];
  const variable = entry.override && env[entry.override] ? entry.override : !env[entry.env] && entry.alias && env[entry.alias] ? entry.alias : entry.env;
  const { port } = entry;
  const raw = env[variable];
  if (raw === undefined || raw === '') return port;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new ConfigError(`${variable} must be a TCP port, got "${raw}"`);
  return value;
}

export function busUrl(config: CommonConfig): string {
  return config.BROADCAST_SERVICE_URL ?? `ws://${config.CONTAINER_IP_ADDR}:${config.BROADCAST_SERVICE_TCP_PORT}/`;
}
