import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../../src/metrics/registry.js';
import { SidecarMetrics } from '../../../src/metrics/sidecar.js';
import { TokenExchangeMetrics } from '../../../src/metrics/token-exchange.js';

async function sample(metrics: SidecarMetrics, name: string, labels: Record<string, string> = {}) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const found = values.find((v) =>
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return found?.value;
}

describe('Metrics', () => {
  it('counts checks by direction, decision and reason, handed over when scraped', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    m.countCheck('inbound', 'deny', 'token_expired');
    m.countCheck('inbound', 'deny', 'token_expired');
    m.countCheck('outbound', 'allow', 'injected');
    m.countCheck('inbound', 'deny', 'token_expired');
    m.countCheck('inbound', 'deny', 'invalid_signature');
    expect(
      await sample(m, 'jwtexchange_checks_total', {
        direction: 'inbound',
        decision: 'deny',
        reason: 'token_expired',
      }),
    ).toBe(3);
    expect(await sample(m, 'jwtexchange_checks_total', { reason: 'invalid_signature' })).toBe(1);
    expect(
      await sample(m, 'jwtexchange_checks_total', { direction: 'outbound', reason: 'injected' }),
    ).toBe(1);
  });

  it('counts verified-cache lookups by result when scraped', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    m.verifiedCacheCounts.child({ result: 'hit' }).inc();
    m.verifiedCacheCounts.child({ result: 'miss' }).inc();
    expect(await sample(m, 'jwtexchange_verified_token_cache_total', { result: 'hit' })).toBe(1);
    expect(await sample(m, 'jwtexchange_verified_token_cache_total', { result: 'miss' })).toBe(1);
  });

  it('runs collect hooks at scrape time, so ages and expiries are computed, not polled', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    let remaining = 120;
    m.onCollect(m.serviceTokenExpiry, () =>
      m.serviceTokenExpiry.set({ audience: 'vmcontroller' }, remaining),
    );
    expect(await sample(m, 'jwtexchange_service_token_expiry_seconds')).toBe(120);
    remaining = -5;
    expect(await sample(m, 'jwtexchange_service_token_expiry_seconds')).toBe(-5);
  });

  it('keeps hooks of different gauges apart', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    m.onCollect(m.jwksAge, () => m.jwksAge.set({ issuer: 'a' }, 7));
    m.onCollect(m.serviceTokenExpiry, () => {
      throw new Error('must not run when jwks age is scraped');
    });
    expect(await sample(m, 'jwtexchange_jwks_age_seconds', { issuer: 'a' })).toBe(7);
  });

  it('exports build info with the package version', async () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    const m = new SidecarMetrics({ defaultMetrics: false });
    expect(await sample(m, 'jwtexchange_build_info', { version: PACKAGE_VERSION })).toBe(1);
    const pinned = new SidecarMetrics({ defaultMetrics: false, version: '9.9.9' });
    expect(await sample(pinned, 'jwtexchange_build_info', { version: '9.9.9' })).toBe(1);
  });

  it('registers process metrics only when asked, in its own registry', async () => {
    const plain = await new SidecarMetrics({ defaultMetrics: false }).registry.metrics();
    expect(plain).not.toContain('process_cpu_seconds_total');
    const full = await new SidecarMetrics().registry.metrics();
    expect(full).toContain('process_cpu_seconds_total');
    expect(full).toContain('nodejs_eventloop_lag_p99_seconds');
  });

  it('uses sub-millisecond buckets for the check histogram', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    m.observeCheckDuration('inbound', 0.0002);
    const text = await m.registry.getSingleMetricAsString('jwtexchange_check_duration_seconds');
    expect(text).toContain('le="0.00025",direction="inbound"} 1');
    expect(text).toContain('le="0.0001",direction="inbound"} 0');
  });

  it('observes the phases that waited, by phase', async () => {
    const m = new SidecarMetrics({ defaultMetrics: false });
    m.observePhaseDuration('authenticate', 0.003);
    m.observePhaseDuration('authorize', 0.02);
    m.observePhaseDuration('authenticate', 0.0004);
    const text = await m.registry.getSingleMetricAsString('jwtexchange_phase_duration_seconds');
    expect(text).toContain('jwtexchange_phase_duration_seconds_count{phase="authenticate"} 2');
    expect(text).toContain('_bucket{le="0.0005",phase="authenticate"} 1');
    expect(text).toContain('_bucket{le="0.025",phase="authorize"} 1');
  });

  it("registers each process's own families: no token-exchange family in the sidecar, and back", async () => {
    const sidecar = await new SidecarMetrics({ defaultMetrics: false }).registry.metrics();
    const sts = await new TokenExchangeMetrics({ defaultMetrics: false }).registry.metrics();
    expect(sidecar).not.toContain('jwtexchange_sts_requests_total');
    expect(sidecar).toContain('jwtexchange_checks_total');
    expect(sts).toContain('jwtexchange_sts_requests_total');
    expect(sts).toContain('jwtexchange_jwks_fetches_total');
    expect(sts).not.toContain('jwtexchange_checks_total');
  });
});
