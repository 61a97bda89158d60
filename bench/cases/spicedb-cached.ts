import { hasSources } from '../lib/paths.js';
import { skipped, type BenchCase } from './case.js';

/**
 * EXTENSION POINT (issue 5): inbound check plus one SpiceDB CheckPermission per request, with
 * the decision cache in front of it.
 *
 * Not measured yet: when this harness was written, src/spicedb/ (client, rules, decision cache)
 * did not exist. To turn it on, replace run() with:
 *
 * 1. Start a real `spicedb serve` (tool('spicedb') → .tools/bin/spicedb; in-memory datastore,
 *    loopback gRPC, a preshared key, HTTP off), write the example schema and the relationship
 *    `cloud:cl0#create_saga@user:bench-user` (authzed-node client). Stop it in a finally block.
 * 2. `withJwtexchange(ctx, this.name, { spicedb: { endpoint, insecure plaintext on loopback,
 *    presharedKey file, rules: [POST /v2/namespaces → cloud:cl0#create_saga@user:{sub}] } }, …)`.
 * 3. Body set: the warm inbound token on the rule's path (Fixtures.warmInbound uses
 *    POST /v2/namespaces already). For a realistic hit ratio, also try a body set with a few
 *    hundred subjects (distinct tokens for users that all hold the relationship).
 * 4. measure({ generator: 'h2load' or 'h2-cycler', expect: { ok: true } }).
 * 5. extras: decisionCacheHitRatio from jwtexchange_spicedb_decision_cache_total{result=hit|miss}
 *    (counterDelta + hitRatio), and SpiceDB calls from jwtexchange_spicedb_checks_total.
 */
export const spicedbCachedCase: BenchCase = {
  name: 'spicedb-cached',
  summary: 'inbound check + SpiceDB CheckPermission per request, decisions cached (issue 5)',
  run() {
    const built = hasSources('src/spicedb');
    return Promise.resolve(
      skipped(
        this,
        built
          ? 'src/spicedb/ exists now, but this case is still a stub: see bench/cases/spicedb-cached.ts'
          : 'SpiceDB authorization (issue 5, src/spicedb/) is not built yet',
      ),
    );
  },
};
