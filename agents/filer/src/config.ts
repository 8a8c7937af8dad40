import { TransferEnv, type EnvSettings } from '@desktop-agents/kit';
import { FileSwitchesEnv } from '@desktop-agents/files';

export const FilerEnv = {
  ...FileSwitchesEnv,
  ...TransferEnv,
  /** Where a file uploaded without a folder lands: `~` (home, as abcdesktop does) or a folder of home, `~/Desktop`. */
  FILER_UPLOAD_DIR: { type: 'string', minLength: 1, default: '~' },
  /** Largest upload accepted (multipart or resumable); 10 GiB. */
  FILER_MAX_UPLOAD_BYTES: { type: 'integer', minimum: 1, default: 10 * 1024 * 1024 * 1024 },
  /**
   * Where resumable uploads and the crash markers of multipart uploads wait: a private folder (0700) outside home by
   * default (/var/tmp/desktop-filer-<uid>/<hash of home>), so nothing in it can be written through the file routes.
   * Set inside home, it is refused to every file route.
   */
  FILER_STAGING_DIR: { type: 'string', minLength: 1 },
  /** A resumable upload untouched for this long is deleted (and answers 410 after). */
  FILER_UPLOAD_TTL_MS: { type: 'integer', minimum: 1000, default: 24 * 3600 * 1000 },
} as const satisfies EnvSettings;
