/**
 * Child-process entry of the h2-cycler load generator, so it never shares an event loop with
 * the orchestrator or a server. argv[2]: JSON {address, bodiesFile, settings}. Prints one JSON
 * LoadResult on stdout.
 */
import { readFileSync } from 'node:fs';
import { splitFrames } from '../lib/grpc-frame.js';
import type { LoadSettings } from '../lib/load-result.js';
import { drive } from './drive.js';

const input = JSON.parse(process.argv[2] ?? '{}') as {
  address: string;
  bodiesFile: string;
  settings: LoadSettings;
};
const bodies = splitFrames(readFileSync(input.bodiesFile));
const result = await drive(input.address, bodies, input.settings);
process.stdout.write(JSON.stringify(result) + '\n');
