// npm run manifests: writes compose/desktop-pod.two-containers.yaml, generated from compose/desktop-pod.yaml (never
// edited by hand; the deploy test fails when it is not what this generates).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/index.js';
import { twoContainerManifestText } from './layout-file.js';

const root = repoRoot();
writeFileSync(join(root, 'compose', 'desktop-pod.two-containers.yaml'), twoContainerManifestText(join(root, 'compose', 'desktop-pod.yaml')));
