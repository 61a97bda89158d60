import {
  startTestTokenExchange,
  type TestTokenExchange,
} from '../../test/helpers/token-exchange.js';
import { measure } from '../lib/measure.js';
import { hasSources } from '../lib/paths.js';
import { counterDelta } from '../lib/prom-text.js';
import { measured, skipped, type BenchCase } from './case.js';
import { withJwtexchange } from './jwtexchange-server.js';

const AUDIENCE = 'vmcontroller';

/** The gateway's sidecar: mTLS to token-exchange as `gateway`, vmcontroller prefetched. */
function outboundConfig(sts: TestTokenExchange) {
  const gateway = sts.pki.clients.gateway!;
  return {
    outbound: {
      tokenExchange: {
        tokenUrl: sts.tokenUrl,
        certFile: gateway.certFile,
        keyFile: gateway.keyFile,
        caFile: sts.pki.caFile,
      },
      audiences: [{ audience: AUDIENCE, prefetch: true }],
    },
  };
}

/**
 * Issue 4: a saga's outbound call on a tagged route gets `authorization: Bearer <service JWT>`
 * from the warm service-token cache. The real token-exchange (mTLS, dev PKI) runs inside the
 * orchestrator process; it serves the prefetch before readiness and must see no request during
 * the run (tokens live 600 s, refresh at half-life), which the case reports.
 */
export const outboundWarmCase: BenchCase = {
  name: 'outbound-warm',
  summary: 'outbound check on a saga-tagged route: inject the cached service JWT (h2load)',
  async run(ctx) {
    if (!hasSources('src/tokens')) {
      return skipped(this, 'service-token injection (issue 4, src/tokens/) is not built yet');
    }
    const bodies = await ctx.fixtures.outboundSaga(AUDIENCE);
    const sts = await startTestTokenExchange({ services: ['gateway', AUDIENCE], ttlSeconds: 600 });
    try {
      const { result, profile } = await withJwtexchange(
        ctx,
        this.name,
        outboundConfig(sts),
        async (server) => {
          const exchangesBefore = sts.requestCount();
          const m = await measure({
            server,
            generator: 'h2load',
            bodies,
            expect: { ok: true, setsHeaders: ['authorization'] },
            settings: ctx.settings,
            scratchDir: ctx.resultsDir,
            generatorCpus: ctx.cpus.generator,
          });
          return { m, exchanges: sts.requestCount() - exchangesBefore };
        },
      );
      const { m, exchanges } = result;
      const waits = counterDelta(
        m.before.samples,
        m.after.samples,
        'jwtexchange_service_token_waits_total',
      );
      return measured(
        this,
        m,
        { tokenExchangeRequests: exchanges, checksThatWaited: waits },
        profile,
      );
    } finally {
      await sts.close();
    }
  },
};
