import { runAgent } from '@desktop-agents/kit';
import { buildPrinterfile } from './app.js';
import { PrinterfileEnv } from './config.js';

await runAgent({ name: 'printerfile', env: PrinterfileEnv, build: buildPrinterfile });
