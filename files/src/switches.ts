import type { EnvSettings } from '@desktop-agents/kit';
import { switchOn } from '@desktop-agents/kit';

/** The file service's abcdesktop switches: each is on unless its env value is 0/false/disable/disabled. */
export interface FileSwitches {
  download: boolean;
  upload: boolean;
  list: boolean;
  remove: boolean;
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
    download: switchOn(env['SENDFILE'], defaults.download),
    upload: switchOn(env['ACCEPTFILE'], defaults.upload),
    list: switchOn(env['ACCEPTLISTFILE'], defaults.list),
    remove: switchOn(env['ACCEPTDELETEFILE'], defaults.remove),
  };
}
