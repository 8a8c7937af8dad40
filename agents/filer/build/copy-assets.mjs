// Copies the upload panel page next to the built code.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
cpSync(join(here, '..', 'public'), join(here, '..', 'dist', 'public'), { recursive: true });
