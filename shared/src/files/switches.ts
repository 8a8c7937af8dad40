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

/** Reads SENDFILE, ACCEPTFILE, ACCEPTLISTFILE, ACCEPTDELETEFILE; `defaults` say what an unset one means. */
export function readSwitches(env: NodeJS.ProcessEnv, defaults: FileSwitches = { download: true, upload: true, list: true, remove: true }): FileSwitches {
  return {
    download: enabled(env['SENDFILE'], defaults.download),
    upload: enabled(env['ACCEPTFILE'], defaults.upload),
    list: enabled(env['ACCEPTLISTFILE'], defaults.list),
    remove: enabled(env['ACCEPTDELETEFILE'], defaults.remove),
  };
}
