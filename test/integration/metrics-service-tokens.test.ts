import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../helpers/manual-time.js';
import { parseConfig } from '../../src/config/load.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { waitFor } from '../helpers/ports.js';
import { scrapeMetrics, type Scrape } from '../helpers/prometheus.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';
import { testLogger } from '../helpers/run-logs.js';

/**
 * Service-token metrics through a token-exchange outage: the real server exchanges with the real
 * token-exchange over mTLS, and a ManualClock with ManualTimers moves time (refresh points,
 * safety margin, backoff) without sleeping. Each step scrapes /metrics over HTTP.
 */
const TTL = 300; // token-exchange's token lifetime (s)
const MARGIN = 30; // outbound.cache.safetyMarginSeconds: never used later than exp - 30 s

describe('service-token metrics through a token-exchange outage', () => {
  let sts: TestTokenExchange;
  let app: RunningApp;
  let client: AuthorizationClient;
  const clock = new ManualClock(Date.now());
  const timers = new ManualTimers(clock);

  beforeAll(async () => {
    // token-exchange issues on the same clock, so exp and iat move with the sidecar's time.
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller', 'billing'],
      ttlSeconds: TTL,
      clock,
    });
    const config = parseConfig({
      server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 2000 },
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
        },
        audiences: [{ audience: 'vmcontroller' }, { audience: 'billing', prefetch: false }],
        // No jitter: the refresh point is exactly half the lifetime.
        cache: { refreshAt: 0.5, jitter: 0, safetyMarginSeconds: MARGIN },
      },
    });
    app = await startApp(config, { logger: testLogger('metrics-service-tokens'), clock, timers });
    await app.whenReady(60_000); // vmcontroller is prefetched: ready once its token is cached
    client = new AuthorizationClient(`127.0.0.1:${app.grpcPort}`);
  });

  afterAll(async () => {
    client?.close();
    await app?.shutdown();
    await sts?.close();
  });

  const scrape = () => scrapeMetrics(app.httpPort);
  const inject = async (audience: string) => {
    const res = await client.check(
      syntheticCheckRequest({
        extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': audience },
      }),
    );
    return res.status?.code ?? 0;
  };
  const counter = (s: Scrape, name: string, labels: Record<string, string>) =>
    s.sum(`jwtexchange_service_token_${name}_total`, labels);
  const expiry = (s: Scrape, audience: string) =>
    s.value('jwtexchange_service_token_expiry_seconds', { audience });
  /** Background work runs on real sockets after a timer fires: wait until it is counted. */
  const until = async (what: string, check: (s: Scrape) => boolean): Promise<Scrape> => {
    return waitFor(async () => {
      const s = await scrape();
      return check(s) ? s : undefined;
    }, what);
  };
  /** Seconds, up to the sub-second the token's iat/exp drop. */
  const near = (actual: number, want: number) => {
    expect(actual).toBeGreaterThan(want - 1);
    expect(actual).toBeLessThanOrEqual(want);
  };

  it('1. prefetch: one successful exchange, the expiry gauge at the full lifetime', async () => {
    const s = await scrape();
    expect(counter(s, 'exchanges', { audience: 'vmcontroller', result: 'success' })).toBe(1);
    expect(s.value('jwtexchange_service_token_exchange_duration_seconds_count')).toBe(1);
    near(expiry(s, 'vmcontroller'), TTL);
    expect(s.samples.some((x) => x.labels.audience === 'billing')).toBe(false);
  });

  it('2. warm injections: counted as injected, nobody waits', async () => {
    for (let i = 0; i < 3; i++) expect(await inject('vmcontroller')).toBe(0);
    const s = await scrape();
    expect(s.sum('jwtexchange_checks_total', { direction: 'outbound', reason: 'injected' })).toBe(
      3,
    );
    expect(counter(s, 'waits', { audience: 'vmcontroller' })).toBe(0);
    // Warm injections answer synchronously: no phase had asynchronous work to time.
    expect(
      s.sum('jwtexchange_phase_duration_seconds_count', { phase: 'inject_service_token' }),
    ).toBe(0);
  });

  it('3. a cold audience: the check waits for one exchange', async () => {
    expect(await inject('billing')).toBe(0);
    const s = await scrape();
    expect(counter(s, 'waits', { audience: 'billing' })).toBe(1);
    expect(counter(s, 'exchanges', { audience: 'billing', result: 'success' })).toBe(1);
    near(expiry(s, 'billing'), TTL);
  });

  it('4. outage at the refresh point: refreshes fail, the cached token is served stale', async () => {
    await sts.stop();
    await timers.advance((TTL / 2) * 1000 + 1000);
    const s = await until(
      'both refreshes to fail',
      (x) => counter(x, 'refreshes', { result: 'failure' }) >= 2,
    );
    // Each failed refresh is one failed exchange (backoff retries may already have run).
    const failures = counter(s, 'refreshes', { audience: 'vmcontroller', result: 'failure' });
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(counter(s, 'exchanges', { audience: 'vmcontroller', result: 'error' })).toBe(failures);
    near(expiry(s, 'vmcontroller'), TTL / 2 - 1);

    expect(await inject('vmcontroller')).toBe(0);
    const after = await scrape();
    expect(counter(after, 'served_stale', { audience: 'vmcontroller' })).toBe(1);
    expect(after.sum('jwtexchange_checks_total', { reason: 'injected' })).toBe(5);
  });

  it('5. past exp minus the margin: denied with service_token_unavailable', async () => {
    await timers.advance((TTL / 2 - MARGIN) * 1000);
    expect(await inject('vmcontroller')).toBe(14); // UNAVAILABLE: Envoy answers 503
    const s = await scrape();
    expect(
      s.value('jwtexchange_checks_total', {
        direction: 'outbound',
        decision: 'deny',
        reason: 'service_token_unavailable',
      }),
    ).toBe(1);
    expect(expiry(s, 'vmcontroller')).toBeLessThan(MARGIN);
    expect(counter(s, 'waits', { audience: 'vmcontroller' })).toBe(1);
    expect(
      counter(s, 'exchanges', { audience: 'vmcontroller', result: 'error' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('6. token-exchange is back: the background retry refreshes, injection resumes', async () => {
    await sts.start();
    await timers.advance(30_000); // the longest backoff (outbound.cache.maxBackoffMs)
    const s = await until(
      'a successful refresh',
      (x) => counter(x, 'refreshes', { audience: 'vmcontroller', result: 'success' }) >= 1,
    );
    // A fresh token, issued when the retry ran somewhere in those 30 s.
    expect(expiry(s, 'vmcontroller')).toBeGreaterThan(TTL - 30);
    expect(expiry(s, 'vmcontroller')).toBeLessThanOrEqual(TTL);
    expect(await inject('vmcontroller')).toBe(0);
  });
});
