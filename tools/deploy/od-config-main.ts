// npm run od-config [-- --registry REGISTRY/PATH --tag TAG]: prints the desktop.pod entries of abcdesktop's od.config
// for our images, generated from the agents' descriptors (README, "Deploying into abcdesktop").
import { parseArgs } from 'node:util';
import { repoRoot } from '../harness/index.js';
import { readDescriptors } from './descriptors.js';
import { odConfigText } from './od-config.js';
import { IMAGE_PREFIX } from './pod.js';

const { values } = parseArgs({ options: { registry: { type: 'string', default: IMAGE_PREFIX }, tag: { type: 'string', default: 'latest' } } });
process.stdout.write(odConfigText(readDescriptors(repoRoot()), { registry: values.registry, tag: values.tag }));
