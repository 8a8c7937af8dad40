import { errorTable } from '@desktop-agents/kit';

/** Every error the spawner answers besides validation, with the spec's texts. */
export const ERRORS = errorTable({
  /** The X display does not answer (not started yet, or gone): the routes answer 503 until it is back. */
  DISPLAY_UNAVAILABLE: { status: 503, text: (display: string) => `X display ${display} is not available` },
  /** The command's policy does not allow these arguments (none, or files inside home only). */
  ARGUMENTS_REFUSED: { status: 403, text: (why: string) => why },
  /** The handled command's program does not start (missing from this image, not executable). */
  LAUNCH_FAILED: { status: 500, text: (command: string, why: string) => `${command} cannot be started: ${why}` },
  PID_NOT_FOUND: { status: 404, text: 'Unknown pid: not started by this spawner' },
  UNKNOWN_IMAGE: { status: 404, text: (name: string) => `Unknow image ${name}` },
  IMAGE_FILE_NOT_FOUND: { status: 404, text: 'file not found' },
  UNSUPPORTED_IMAGE: { status: 415, text: (why: string) => `Unsupported image: ${why}` },
  NOT_FOUND: { status: 404, text: 'Not found' },
  NO_VERSION_FILE: { status: 404, text: 'Can not found version file' },
  PULSE_UNREACHABLE: { status: 503, text: 'PulseAudio is not reachable' },
  UNKNOWN_SINK: { status: 404, text: (name: string) => `Unknown sink ${name}` },
  NO_RTP_DESTINATION: { status: 403, text: 'No RTP destination is configured for this desktop' },
  RTP_DESTINATION_REFUSED: { status: 403, text: 'RTP destination not allowed' },
  /** The X server cannot make the screen or monitors asked for (no RANDR, a fixed size, no new mode). */
  DISPLAY_CHANGE_REFUSED: { status: 409, text: (why: string) => `The display cannot be changed: ${why}` },
  /** No window at the point takes dropped files (no XdndAware, refused, or no answer), or the path is not in home. */
  DROP_REFUSED: { status: 409, text: (why: string) => why },
  TOO_MANY_SCREENSHOTS: { status: 429, text: (perMinute: number) => `Too many screenshots: at most ${perMinute} a minute from one client` },
});
