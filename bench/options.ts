import { parseArgs } from 'node:util';
import type { LoadSettings } from './lib/load-result.js';

export interface BenchOptions {
  readonly settings: LoadSettings;
  /** Case names to run, in the registry's order. */
  readonly cases: readonly string[];
  readonly distinctTokens: number;
  readonly profile: boolean;
  /** Interleaved repetitions of the selected cases; each case reports its median round. */
  readonly rounds: number;
  /** Pin the per-core cases' server and load generator to separate CPUs (default on). */
  readonly pin: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --duration S         measured seconds per case (default 10)
  --warmup S           warm-up seconds per case, not measured (default 2)
  --connections N      HTTP/2 connections per load generator (default 2)
  --streams N          concurrent streams per connection (default 16); the per-core
                       HTTP cases open connections × streams HTTP/1.1 connections
  --cases a,b          cases to run (default: all): %CASES%
  --rounds N           run the cases N times interleaved, report each one's median (default 1)
  --distinct-tokens N  tokens cycled by inbound-distinct(-http) (default 20000; must exceed 10000)
  --profile            run jwtexchange under node --cpu-prof and print its hot spots
  --no-pin             do not pin the per-core cases (server on CPU 0, load generator on CPU 1)
  --help               this text`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** Parses argv; returns undefined for --help. Throws with a clear message on bad input. */
export function parseOptions(
  argv: readonly string[],
  known: readonly string[],
): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      cases: { type: 'string' },
      rounds: { type: 'string' },
      'distinct-tokens': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const wanted = values.cases?.split(',').map((c) => c.trim()) ?? known;
  const unknown = wanted.filter((c) => !known.includes(c));
  if (unknown.length > 0) {
    throw new Error(`unknown case(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  }
  return {
    settings: {
      durationSeconds: positiveInt('duration', values.duration, 10),
      warmupSeconds: positiveInt('warmup', values.warmup, 2),
      connections: positiveInt('connections', values.connections, 2),
      streams: positiveInt('streams', values.streams, 16),
    },
    cases: known.filter((c) => wanted.includes(c)),
    distinctTokens: positiveInt('distinct-tokens', values['distinct-tokens'], 20_000),
    profile: values.profile ?? false,
    rounds: positiveInt('rounds', values.rounds, 1),
    pin: !values['no-pin'],
  };
}
