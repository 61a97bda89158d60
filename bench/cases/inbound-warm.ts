import type { BenchCase } from './case.js';
import { measureInbound, warmLoad } from './jwtexchange-server.js';

/**
 * The hot path as Envoy drives it in steady state: the same caller token again and again, so
 * every check after the first is a verified-token cache hit (no signature verification). Over
 * gRPC (h2load, HTTP/2 streams) or over the HTTP listener (`-http`: h2load --h1, one check in
 * flight per HTTP/1.1 connection, as Envoy's HTTP mode sends them).
 */
function inboundWarm(name: string, transport: 'grpc' | 'http', summary: string): BenchCase {
  return {
    name,
    summary,
    async run(ctx) {
      return measureInbound(ctx, this, await warmLoad(ctx, transport), [
        'x-jwtauth-subject',
        'x-jwtauth-claims',
      ]);
    },
  };
}

export const inboundWarmCase = inboundWarm(
  'inbound-warm',
  'grpc',
  'inbound check, one token repeated: verified-token cache hit on every call (h2load)',
);
export const inboundWarmHttpCase = inboundWarm(
  'inbound-warm-http',
  'http',
  'as inbound-warm, on the ext_authz HTTP listener (h2load --h1, one check per connection)',
);
