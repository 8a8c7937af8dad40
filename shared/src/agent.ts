import closeWithGrace from 'close-with-grace';
import type { AgentServer, ServerOptions } from './server.js';

import { createAuthenticator, type Authenticator } from './auth.js';
import { agentPort, ConfigError, loadConfig, type AgentConfig, type AgentName, type CommonConfig, type EnvSettings } from './config.js';
import { createLogger, routeConsoleToLogger, standardOutput, type Logger } from './logger.js';

export interface AgentContext<C> {
  name: AgentName;
  config: C;
  logger: Logger;
  authenticator: Authenticator;
}

export interface AgentDefinition<P extends EnvSettings> {
  name: AgentName;
  /** The agent's own settings, beside the common ones and its port. */
  env: P;
  /** Builds the server with its real dependencies; never listens. */
  build(context: AgentContext<AgentConfig<P>>): Promise<AgentServer>;
}

/** The server options every agent passes on from its context: its name, logger, authenticator and settings. */
export function serverOptionsOf(context: AgentContext<CommonConfig>): Pick<ServerOptions, 'name' | 'logger' | 'authenticator' | 'security'> {
  return { name: context.name, logger: context.logger, authenticator: context.authenticator, security: context.config };
}

interface PreparedAgent {
  name: AgentName;
  config: CommonConfig;
  port: number;
  logger: Logger;
  app: AgentServer;
}

/** Reads an agent's env and builds it; throws an error naming the agent when either fails. */
async function prepareAgent<P extends EnvSettings>(definition: AgentDefinition<P>): Promise<PreparedAgent> {
  let config: AgentConfig<P>;
  let port: number;
  try {
    config = loadConfig(definition.env);
    port = agentPort(definition.name);
  } catch (err) {
    throw new AgentStartError(definition.name, createLogger({ name: definition.name }), err instanceof ConfigError ? { message: err.message } : err);
  }
  const logger = createLogger({ name: definition.name, level: config.LOG_LEVEL });
  try {
    const app = await definition.build({ name: definition.name, config, logger, authenticator: createAuthenticator(config) });
    return { name: definition.name, config, port, logger, app };
  } catch (err) {
    // a dependency that cannot be set up (display, folder, bad setting)
    throw new AgentStartError(definition.name, logger, err);
  }
}

class AgentStartError extends Error {
  constructor(
    readonly agent: AgentName,
    readonly logger: Logger,
    readonly failure: unknown,
  ) {
    super(`${agent} cannot start`);
  }
}

/**
 * The whole life of an agent process: read env (exit 1 on a bad one), build, listen on CONTAINER_IP_ADDR and the
 * agent's port, and on SIGTERM/SIGINT close everything (sockets, children) and exit 0; exit 1 past SHUTDOWN_GRACE_MS.
 */
export async function runAgent<P extends EnvSettings>(definition: AgentDefinition<P>): Promise<AgentServer> {
  const [app] = await runAgents([definition]);
  if (!app) throw new Error(`${definition.name} did not start`);
  return app;
}

/**
 * Several agents in one process (`npm run agents`), each on its own port with its own probes, logger name and
 * settings from the same env, built in the order given (the bus first, so the others reach it in-process), with one
 * shutdown path that closes them all. An agent that cannot start stops the process, with a log line naming it.
 */
export async function runAgents(definitions: ReadonlyArray<AgentDefinition<EnvSettings>>): Promise<AgentServer[]> {
  const processLogger = createLogger({ name: definitions.length === 1 ? (definitions[0]?.name ?? 'agents') : 'agents' });
  routeConsoleToLogger(processLogger);
  // Node opens its inspector on SIGUSR1 when nothing listens for it: any process of the pod could then run code in
  // the agent. A listener keeps it closed (an agent may add its own meaning, as the spawner does); the start file
  // build/bundle.mjs writes takes the signal before any of this loads, this one logs it.
  process.on('SIGUSR1', () => processLogger.debug('SIGUSR1 received; the inspector stays closed'));
  const agents: PreparedAgent[] = [];
  const closeAll = async () => {
    // the reverse of the start order: the bus last, after those publishing on it
    for (const agent of [...agents].reverse()) await agent.app.close();
  };
  const fail = async (agent: AgentName, logger: Logger, err: unknown): Promise<never> => {
    logger.fatal({ err, agent }, 'cannot start');
    await closeAll().catch(() => undefined);
    await standardOutput.flushed();
    process.exit(1);
  };
  for (const definition of definitions) {
    try {
      agents.push(await prepareAgent(definition));
    } catch (err) {
      if (err instanceof AgentStartError) return fail(err.agent, err.logger, err.failure);
      return fail(definition.name, processLogger, err);
    }
  }

  const grace = Math.max(...agents.map((a) => a.config.SHUTDOWN_GRACE_MS));
  // SIGUSR2 is not a shutdown: abcdesktop's window manager sends it to the spawner when a window closes
  closeWithGrace({ delay: grace, logger: processLogger, skip: ['SIGUSR2'] }, async ({ signal, err }) => {
    if (err) processLogger.error({ err }, 'fatal error, closing');
    else processLogger.info({ signal, agents: agents.map((a) => a.name) }, 'shutting down');
    await closeAll();
    processLogger.info('closed');
    // what the loggers queued reaches the log reader before the exit (bounded: a reader gone or stuck)
    await standardOutput.flushed();
  });

  for (const agent of agents) {
    try {
      await agent.app.listen({ host: agent.config.CONTAINER_IP_ADDR, port: agent.port });
    } catch (err) {
      return fail(agent.name, agent.logger, err);
    }
  }
  return agents.map((a) => a.app);
}
