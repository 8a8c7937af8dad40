// node ../../build/copy-public.mjs (from an agent's folder): copies its public/ pages next to the built code
// (dist/public), where its routes find them relative to dist/src, bundled or not.
import { cpSync } from 'node:fs';
import { join } from 'node:path';

cpSync(join(process.cwd(), 'public'), join(process.cwd(), 'dist', 'public'), { recursive: true });
