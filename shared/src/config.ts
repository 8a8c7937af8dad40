import { envSchema } from 'env-schema';
import { Type, type Static, type TObject, type TProperties } from 'typebox';

/** abcdesktop's port variables and their defaults: one table, used by every agent and by the pod runner. */
export const AGENT_PORTS = {
  spawner: { env: 'SPAWNER_SERVICE_TCP_PORT', port: 29786 },
  broadcast: { env: 'BROADCAST_SERVICE_TCP_PORT', port: 29784 },
  webshell: { env: 'PORT', port: 29781 },
  filer: { env: 'FILE_SERVICE_TCP_PORT', port: 29783 },
  printerfile: { env: 'PRINTERFILE_SERVICE_TCP_PORT', port: 29782 },
  sound: { env: 'SOUND_SERVICE_TCP_PORT', port: 4714 },
} as const;

export type AgentName = keyof typeof AGENT_PORTS;

/** Settings every agent reads, with abcdesktop's variable names. */
export const CommonEnv = {
  CONTAINER_IP_ADDR: Type.String({ default: '127.0.0.1', minLength: 1 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  HOME: Type.String({ default: '/root', minLength: 1 }),
  DISPLAY: Type.String({ default: ':0' }),
  AUTH_MODE: Type.Union([Type.Literal('token'), Type.Literal('abcdesktop')], { default: 'token' }),
  AUTH_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  BROADCAST_COOKIE: Type.Optional(Type.String({ minLength: 1 })),
  BROADCAST_SERVICE_TCP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: AGENT_PORTS.broadcast.port }),
  /** Where the bus is; defaults to ws://CONTAINER_IP_ADDR:BROADCAST_SERVICE_TCP_PORT as in abcdesktop. */
  BROADCAST_SERVICE_URL: Type.Optional(Type.String({ minLength: 1 })),
  NGINX_SERVICE_HOST: Type.Optional(Type.String()),
  HTTP_ROUTER_SERVICE_HOST: Type.Optional(Type.String()),
  DISABLE_REMOTEIP_FILTERING: Type.Optional(Type.String()),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 100, default: 10_000 }),
};

export type CommonConfig = Static<TObject<typeof CommonEnv>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads the environment once at start-up against one schema: the common settings plus the agent's own.
 * Every problem is reported together; callers exit non-zero on ConfigError.
 */
export type AgentConfig<P extends TProperties> = CommonConfig & Static<TObject<P>>;

export function loadConfig<P extends TProperties>(agentEnv: P, env: NodeJS.ProcessEnv = process.env): AgentConfig<P> {
  const schema = Type.Object({ ...CommonEnv, ...agentEnv });
  let config: AgentConfig<P>;
  try {
    config = envSchema<AgentConfig<P>>({ schema, data: { ...env }, dotenv: false });
  } catch (err) {
    throw new ConfigError(`invalid environment: ${(err as Error).message}`);
  }
  if (config.AUTH_MODE === 'token' && !config.AUTH_TOKEN && !config.JWT_PUBLIC_KEY) {
    throw new ConfigError('AUTH_MODE=token needs AUTH_TOKEN (shared secret, 16+ chars) or JWT_PUBLIC_KEY (PEM)');
  }
  return config;
}

/** The agent's port from its abcdesktop variable (e.g. SPAWNER_SERVICE_TCP_PORT), or its default. */
export function agentPort(name: AgentName, env: NodeJS.ProcessEnv = process.env): number {
  const { env: variable, port } = AGENT_PORTS[name];
  const raw = env[variable];
  if (raw === undefined || raw === '') return port;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new ConfigError(`${variable} must be a TCP port, got "${raw}"`);
  return value;
}

export function busUrl(config: CommonConfig): string {
  return config.BROADCAST_SERVICE_URL ?? `ws://${config.CONTAINER_IP_ADDR}:${config.BROADCAST_SERVICE_TCP_PORT}/`;
}
