const OFF = new Set(['0', 'false', 'disable', 'disabled', 'no', 'off']);

/** An abcdesktop on/off variable (SENDFILE, ACCEPTCUTTEXT...): on unless 0/false/disable/disabled/no/off; unset means `fallback`. */
export function switchOn(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !OFF.has(value.trim().toLowerCase());
}
