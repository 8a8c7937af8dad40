// npm run manifests: writes every deployment file (compose/) from the agents' descriptors; the deploy test fails
// when a committed one differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/index.js';
import { deploymentFilesOf } from './files.js';

const root = repoRoot();
for (const [path, text] of deploymentFilesOf(root)) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
