import { hasSources } from '../lib/paths.js';
import { skipped, type BenchCase } from './case.js';

/**
 * EXTENSION POINT (issue 4): outbound service-token injection with a warm cache.
 *
 * Not measured yet: when this harness was written, src/tokens/ (the service-token client and
 * cache) did not exist. To turn it on, replace run() with:
 *
 * 1. Start the real token-exchange (`jwtexchange sts`, src/sts/) on loopback with a dev PKI
 *    (src/pki/dev-pki.ts): server certificate, a client certificate naming the gateway service,
 *    which is on the STS allowlist. Stop it in a finally block.
 * 2. `withJwtexchange(ctx, this.name, { outbound: { …token-exchange URL, cert/key/CA files,
 *    allowed audience `vmcontroller`, prefetch [vmcontroller] } }, …)` — readiness waits for the
 *    prefetch, so the cache is warm before the first request.
 * 3. A body set in Fixtures: envoyLikeCheckRequest({ requestId, headers: { 'x-saga-id': 's-1' },
 *    extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'vmcontroller' } })
 *    (no caller token: sagas have none).
 * 4. measure({ generator: 'h2load', expect: { ok: true, setsHeaders: ['authorization'] } }).
 * 5. extras from the server's counters (counterDelta): jwtexchange_service_token_exchanges_total
 *    (should stay ≈ 0 during the run) and jwtexchange_service_token_waits_total (must be 0).
 * The ratio to the bare ceiling is computed by run.ts like for every case (target ≥ 0.85).
 */
export const outboundWarmCase: BenchCase = {
  name: 'outbound-warm',
  summary: 'outbound check on a saga-tagged route: inject the cached service JWT (issue 4)',
  run() {
    const built = hasSources('src/tokens');
    return Promise.resolve(
      skipped(
        this,
        built
          ? 'src/tokens/ exists now, but this case is still a stub: see bench/cases/outbound-warm.ts'
          : 'service-token injection (issue 4, src/tokens/) is not built yet',
      ),
    );
  },
};
