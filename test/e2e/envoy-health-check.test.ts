import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { waitFor } from '../helpers/ports.js';

/**
 * A real Envoy health-checks the sidecar with its own gRPC health checker (cluster
 * `health_checks: grpc_health_check`, grpc.health.v1.Health/Check) and sees the host healthy and
 * unhealthy as the sidecar's readiness flips. Readiness is moved by a gate the test owns, through
 * the path real gates take (Readiness.recheck → setServing).
 */
describe('Envoy grpc_health_check against the sidecar', () => {
  let t: TestApp;
  let envoy: RunningEnvoy;
  let ready = false;
  const setReady = (r: boolean) => {
    ready = r;
    t.app.readiness.recheck();
  };

  beforeAll(async () => {
    t = await startTestApp();
    t.app.readiness.register('test gate', () => ({ ready }));
    t.app.readiness.recheck();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort },
        edit(config) {
          const cluster = config.static_resources.clusters.find(
            (c: { name: string }) => c.name === 'jwtexchange',
          );
          // Checked often, and one answer decides, so each flip shows at the next check; the
          // cluster has no traffic here, hence no_traffic_interval too.
          cluster.health_checks = [
            {
              timeout: '30s',
              interval: '0.2s',
              no_traffic_interval: '0.2s',
              unhealthy_threshold: 1,
              healthy_threshold: 1,
              grpc_health_check: { service_name: 'envoy.service.auth.v3.Authorization' },
            },
          ];
        },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
    await t?.app.shutdown();
  });

  /** The jwtexchange host's health flags in Envoy's admin /clusters. */
  async function hostFlags(): Promise<string | undefined> {
    const res = await fetch(`http://127.0.0.1:${envoy.adminPort}/clusters`);
    const line = (await res.text())
      .split('\n')
      .find((l) => l.startsWith(`jwtexchange::127.0.0.1:${t.app.grpcPort}::health_flags::`));
    return line?.split('::health_flags::')[1];
  }

  const counter = (name: string) => envoy.counter(`cluster.jwtexchange.health_check.${name}`);

  it('unhealthy while NOT_SERVING, healthy once SERVING, unhealthy again when readiness drops', async () => {
    await waitFor(async () => (await hostFlags()) === '/failed_active_hc', 'unhealthy at first');
    expect(await counter('failure')).toBeGreaterThan(0);

    setReady(true);
    await waitFor(async () => (await hostFlags()) === 'healthy', 'healthy once SERVING');
    expect(await counter('success')).toBeGreaterThan(0);

    setReady(false);
    await waitFor(async () => (await hostFlags()) === '/failed_active_hc', 'unhealthy again');
    // Envoy counts a NOT_SERVING answer as a failed check, not as a network error.
    expect(await counter('network_failure')).toBe(0);
  }, 90_000);
});
