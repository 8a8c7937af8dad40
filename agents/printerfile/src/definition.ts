import type { AgentDefinition } from '@desktop-agents/kit';
import { buildPrinterfile } from './app.js';
import { PrinterfileEnv } from './config.js';

/** The printerfile agent as the kit runs it: alone (main.ts) or beside others in one process (npm run agents). */
export const definition: AgentDefinition<typeof PrinterfileEnv> = { name: 'printerfile', env: PrinterfileEnv, build: buildPrinterfile };
