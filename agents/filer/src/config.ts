import type { EnvSettings } from '@desktop-agents/kit';

export const FilerEnv = {
  /** Largest upload accepted (multipart or resumable); 10 GiB. */
  FILER_MAX_UPLOAD_BYTES: { type: 'integer', minimum: 1, default: 10 * 1024 * 1024 * 1024 },
  /** Where resumable uploads wait until complete; default ~/.cache/filer-uploads (same filesystem as home). */
  FILER_STAGING_DIR: { type: 'string', minLength: 1 },
} as const satisfies EnvSettings;
