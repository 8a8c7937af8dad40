import { TransferEnv, type EnvSettings } from '@desktop-agents/kit';
import { FileSwitchesEnv } from '@desktop-agents/files';

export const PrinterfileEnv = {
  ...FileSwitchesEnv,
  ...TransferEnv,
  /** The folder cups-pdf writes into (abcdesktop's name); defaults to HOME, which is then never purged. */
  WATCHDIR: { type: 'string', minLength: 1 },
  /** cupsd's address, host:port (the pod's printer container listens on 681; CUPS itself defaults to 631). */
  CUPS_SERVER: { type: 'string', minLength: 1, default: '127.0.0.1:681' },
  /** The cups-pdf queue. */
  PRINTER_NAME: { type: 'string', minLength: 1, default: 'PDF' },
  /** A file is announced once it has not changed for this long (cups-pdf writes progressively). */
  PRINTERFILE_SETTLE_MS: { type: 'integer', minimum: 50, default: 1000 },
  /** PDFs older than this are deleted; 0 keeps them forever. */
  PRINTERFILE_PURGE_AGE_MS: { type: 'integer', minimum: 0, default: 24 * 3600 * 1000 },
  PRINTERFILE_PURGE_INTERVAL_MS: { type: 'integer', minimum: 100, default: 10 * 60 * 1000 },
  /** How often the queue is asked whether it accepts jobs (for printer.available). */
  PRINTERFILE_POLL_MS: { type: 'integer', minimum: 100, default: 5000 },
  /** The largest upload accepted when ACCEPTFILE turns uploads on (they are off by default): 413 past it. */
  PRINTERFILE_MAX_UPLOAD_BYTES: { type: 'integer', minimum: 1, default: 256 * 1024 * 1024 },
  /** Deadline of one IPP request to cupsd. */
  PRINTERFILE_IPP_TIMEOUT_MS: { type: 'integer', minimum: 100, default: 3000 },
} as const satisfies EnvSettings;
