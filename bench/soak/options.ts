import { parseArgs } from 'node:util';

export interface SoakOptions {
  readonly minutes: number;
  /** User requests per second into the gateway (each with a token never seen before). */
  readonly rate: number;
  /** Saga calls per second out of the gateway, on the tagged route. */
  readonly sagaRate: number;
  /** Fail when the gateway sidecar's RSS grows more than this from the end of warm-up. */
  readonly rssGrowthMiB: number;
  /** Skip the token-exchange restarts and certificate renewals (a baseline; keys still rotate). */
  readonly noFaults: boolean;
  /** How both Envoys ask the sidecars: ext_authz over gRPC or HTTP (envoy/*-http.yaml). */
  readonly transport: 'grpc' | 'http';
}

export const USAGE = `usage: npm run soak -- [options]

  --minutes N          how long to run (default 10; fractions allowed, at least 0.5)
  --rate N             user requests per second through the gateway's ingress (default 100)
  --saga-rate N        saga calls per second through the gateway's egress (default 25)
  --rss-growth-mib N   fail when the gateway sidecar's RSS grows more than N MiB from the end of
                       warm-up to the end (default 48)
  --no-faults          no token-exchange restarts or certificate renewals (a baseline run)
  --transport T        grpc (default) or http: the ext_authz transport every Envoy uses, with
                       the shipped envoy/*.yaml or envoy/*-http.yaml
  --help               this text`;

function positive(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= min) throw new Error(`--${name} must be a number above ${min}`);
  return n;
}

/** Parses argv; undefined for --help. Throws with a clear message on bad input. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      'saga-rate': { type: 'string' },
      'rss-growth-mib': { type: 'string' },
      'no-faults': { type: 'boolean', default: false },
      transport: { type: 'string', default: 'grpc' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const minutes = positive('minutes', values.minutes, 10);
  if (minutes < 0.5) throw new Error('--minutes must be at least 0.5');
  const transport = values.transport;
  if (transport !== 'grpc' && transport !== 'http') {
    throw new Error('--transport must be grpc or http');
  }
  return {
    minutes,
    rate: positive('rate', values.rate, 100),
    sagaRate: positive('saga-rate', values['saga-rate'], 25),
    rssGrowthMiB: positive('rss-growth-mib', values['rss-growth-mib'], 48),
    noFaults: values['no-faults'] ?? false,
    transport,
  };
}
