import type { EnvSettings } from '../config.js';

/** The file service's abcdesktop switches: each is on unless its env value is 0/false/disable/disabled. */
export interface FileSwitches {
  download: boolean;
  upload: boolean;
  list: boolean;
  remove: boolean;
}

const OFF = new Set(['0', 'false', 'disable', 'disabled', 'no', 'off']);

function enabled(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !OFF.has(value.trim().toLowerCase());
}

/** abcdesktop's switch variables, for an agent's env schema (text: 0/false/disable/disabled/no/off turn one off). */
export const FileSwitchesEnv = {
  /** Downloads on unless off. */
  SENDFILE: { type: 'string' },
  /** Uploads on unless off. */
  ACCEPTFILE: { type: 'string' },
  /** Listing on unless off. */
  ACCEPTLISTFILE: { type: 'string' },
  /** Deleting on unless off. */
  ACCEPTDELETEFILE: { type: 'string' },
} as const satisfies EnvSettings;

type SwitchValues = Partial<Record<keyof typeof FileSwitchesEnv, string>>;

/** Reads SENDFILE, ACCEPTFILE, ACCEPTLISTFILE, ACCEPTDELETEFILE from the config; `defaults` say what an unset one means. */
export function readSwitches(env: SwitchValues, defaults: FileSwitches = { download: true, upload: true, list: true, remove: true }): FileSwitches {
  return {
    download: enabled(env['SENDFILE'], defaults.download),
    upload: enabled(env['ACCEPTFILE'], defaults.upload),
    list: enabled(env['ACCEPTLISTFILE'], defaults.list),
    remove: enabled(env['ACCEPTDELETEFILE'], defaults.remove),
  };
}
