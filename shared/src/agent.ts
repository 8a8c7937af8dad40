import closeWithGrace from 'close-with-grace';
import type { AgentServer, ServerOptions } from './server.js';

import { createAuthenticator, type Authenticator } from './auth.js';
import { agentPort, ConfigError, loadConfig, type AgentConfig, type AgentName, type CommonConfig, type EnvSettings } from './config.js';
import { createLogger, routeConsoleToLogger, type Logger } from './logger.js';

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

/**
 * The whole life of an agent process: read env (exit 1 on a bad one), build, listen on CONTAINER_IP_ADDR and the
 * agent's port, and on SIGTERM/SIGINT close everything (sockets, children) and exit 0; exit 1 past SHUTDOWN_GRACE_MS.
 */
export async function runAgent<P extends EnvSettings>(definition: AgentDefinition<P>): Promise<AgentServer> {
  let config: AgentConfig<P>;
  let port: number;
  try {
    config = loadConfig(definition.env);
    port = agentPort(definition.name);
  } catch (err) {
    const logger = createLogger({ name: definition.name });
    logger.fatal({ err: err instanceof ConfigError ? { message: err.message } : err }, 'cannot start');
    logger.flush();
    process.exit(1);
  }
  const logger = createLogger({ name: definition.name, level: config.LOG_LEVEL });
  routeConsoleToLogger(logger);
  // Node opens its inspector on SIGUSR1 when nothing listens for it: any process of the pod could then run code in
  // the agent. A listener keeps it closed (an agent may add its own meaning, as the spawner does).
  process.on('SIGUSR1', () => logger.debug('SIGUSR1 received; the inspector stays closed'));
  let app: AgentServer;
  try {
    app = await definition.build({ name: definition.name, config, logger, authenticator: createAuthenticator(config) });
  } catch (err) {
    // a dependency that cannot be set up (display, folder, bad setting): say why, as JSON, and exit 1
    logger.fatal({ err }, 'cannot start');
    logger.flush();
    process.exit(1);
  }

  // SIGUSR2 is not a shutdown: abcdesktop's window manager sends it to the spawner when a window closes
  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, logger, skip: ['SIGUSR2'] }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, closing');
    else logger.info({ signal }, 'shutting down');
    await app.close();
    logger.info('closed');
  });

  await app.listen({ host: config.CONTAINER_IP_ADDR, port });
  return app;
}
