import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { SidecarMetrics } from '../../src/metrics/sidecar.js';
import { TokenExchangeMetrics } from '../../src/metrics/token-exchange.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { CHART } from '../helpers/helm.js';
import { promqlRefs, scrapeMetrics, type Scrape } from '../helpers/prometheus.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';
import { ROOT } from '../helpers/tools.js';

/**
 * The Grafana dashboard and the alert rules only query what the server exports. Names are checked
 * against a live scrape of the real server (with a real token-exchange behind it). A family that
 * is declared with labels but only shows up in a scrape once used (a SpiceDB counter per result,
 * a refresh-failure counter per audience…) is checked against the registry's declared names
 * instead, and the test lists exactly which those are. Unlabelled families are exported from the
 * start, so they must be in the scrape.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dashboard = JSON.parse(
  readFileSync(path.join(CHART, 'dashboards/jwtexchange.json'), 'utf8'),
) as Json;
const rules = parseYaml(
  readFileSync(path.join(CHART, 'alerts/jwtexchange.rules.yaml'), 'utf8'),
) as Json;
const alerts: Json[] = rules.groups.flatMap((g: Json) => g.rules);
const panels: Json[] = dashboard.panels.filter((p: Json) => p.type !== 'row');

/** Labels Prometheus adds to every series of a target (ServiceMonitor relabeling, kubernetes SD). */
const TARGET_LABELS = new Set(['job', 'namespace', 'pod', 'instance', 'container', 'service']);
/** Series Prometheus makes itself for every scrape target. */
const PROMETHEUS_SERIES = new Set(['up']);

/** Declared families with their label names; histograms as their _bucket/_sum/_count series. */
function declaredSeries(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const registries = [new SidecarMetrics().registry, new TokenExchangeMetrics().registry];
  for (const m of registries.flatMap((r) => r.getMetricsAsArray())) {
    const raw = m as unknown as { name: string; type: string; labelNames: string[] };
    if (raw.type === 'histogram') {
      out.set(`${raw.name}_bucket`, [...raw.labelNames, 'le']);
      out.set(`${raw.name}_sum`, raw.labelNames);
      out.set(`${raw.name}_count`, raw.labelNames);
    } else {
      out.set(raw.name, raw.labelNames);
    }
  }
  return out;
}

const queries = (): { where: string; expr: string }[] => [
  ...panels.flatMap((p) =>
    p.targets.map((t: Json) => ({ where: `panel "${p.title}"`, expr: t.expr })),
  ),
  ...dashboard.templating.list
    .filter((v: Json) => v.type === 'query')
    .map((v: Json) => ({ where: `variable $${v.name}`, expr: v.query.query })),
  ...alerts.map((a) => ({ where: `alert ${a.alert}`, expr: a.expr as string })),
];

describe('the Grafana dashboard', () => {
  it('is a valid dashboard: unique ids, a Prometheus datasource variable, panels on the grid', () => {
    expect(dashboard).toMatchObject({ uid: 'jwtexchange', title: 'jwtexchange' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p: Json) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const vars = dashboard.templating.list.map((v: Json) => v.name);
    expect(vars).toEqual(['datasource', 'job', 'namespace', 'pod']);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.description, p.title).toBeTruthy();
      const refIds = p.targets.map((t: Json) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
  });

  it('answers the five questions, one row each', () => {
    expect(
      dashboard.panels.filter((p: Json) => p.type === 'row').map((p: Json) => p.title),
    ).toEqual([
      'Is the sidecar healthy?',
      'What is it denying, and why?',
      'Is the service token about to expire?',
      'Is token-exchange or SpiceDB failing?',
      'Are saga-delegated tokens flowing?',
    ]);
  });

  it('scopes every sidecar query to the selected job, namespace and pod', () => {
    for (const p of panels) {
      for (const t of p.targets) {
        const refs = promqlRefs(t.expr);
        for (const metric of refs.metrics) {
          if (metric.startsWith('jwtexchange_sts_')) continue; // the token-exchange server's own job
          expect([...(refs.selectorLabels.get(metric) ?? [])], `${p.title}: ${metric}`).toEqual(
            expect.arrayContaining(['job', 'namespace', 'pod']),
          );
        }
      }
    }
  });
});

describe('the alert rules', () => {
  const operations = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');

  it('are complete: severity, for, summary, description and a runbook section each', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Jwtexchange[A-Z]\w+$/);
      expect(['warning', 'critical'], a.alert).toContain(a.labels.severity);
      expect(a.for, a.alert).toMatch(/^\d+m$/);
      expect(a.annotations.summary, a.alert).toBeTruthy();
      expect(a.annotations.description, a.alert).toBeTruthy();
      expect(a.annotations.runbook_url).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      expect(operations, `docs/operations.md has no "### ${a.alert}" section`).toMatch(
        new RegExp(`^### ${a.alert}$`, 'm'),
      );
    }
  });

  it('select the job the ServiceMonitor names', () => {
    const down = alerts.find((a) => a.alert === 'JwtexchangeDown')!;
    expect(down.expr).toBe('up{job="jwtexchange"} == 0');
  });
});

describe('every metric the dashboard and the alerts use', () => {
  let sts: TestTokenExchange;
  let t: TestApp;
  let scrape: Scrape;
  const declared = declaredSeries();

  beforeAll(async () => {
    // With a real token-exchange, the service-token families are live too.
    sts = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'] });
    t = await startTestApp(() => ({
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
        },
        audiences: [{ audience: 'vmcontroller' }],
      },
    }));
    const client = new AuthorizationClient(t.grpcAddress);
    // Allows (exempt, verified token, injected service token) and a denial, so the labelled
    // check and cache counters have series.
    const token = await t.issuer.mint({ sub: 'alice' });
    await client.check(syntheticCheckRequest({ extensions: { 'jwtexchange.exempt': 'true' } }));
    await client.check(syntheticCheckRequest({ headers: { authorization: `Bearer ${token}` } }));
    await client.check(syntheticCheckRequest({}));
    await client.check(
      syntheticCheckRequest({
        extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'vmcontroller' },
      }),
    );
    client.close();
    scrape = await scrapeMetrics(t.app.httpPort);
  });

  afterAll(async () => {
    await t?.app.shutdown();
    await sts?.close();
  });

  it('is exported by a live server, or is a declared family that appears once used', () => {
    const problems: string[] = [];
    const notYetUsed = new Set<string>();
    for (const { where, expr } of queries()) {
      for (const metric of promqlRefs(expr).metrics) {
        if (PROMETHEUS_SERIES.has(metric) || scrape.names.has(metric)) continue;
        const labels = declared.get(metric);
        if (labels === undefined) problems.push(`${where}: ${metric} is not exported`);
        else if (labels.filter((l) => l !== 'le').length === 0) {
          problems.push(`${where}: ${metric} has no labels, so it should be in the scrape`);
        } else notYetUsed.add(metric);
      }
    }
    expect(problems).toEqual([]);
    // Exactly these are absent from this scrape, each for a reason this test cannot produce:
    expect([...notYetUsed].sort()).toEqual([
      'jwtexchange_delegated_token_evictions_total', // only with an outbound delegation section
      'jwtexchange_delegated_token_exchanges_total', // and saga traffic
      'jwtexchange_delegated_token_lookups_total',
      'jwtexchange_service_token_refreshes_total', // only after a background refresh ran
      'jwtexchange_service_token_served_stale_total', // only when refreshing failed
      'jwtexchange_service_token_waits_total', // only when a check waited (prefetch avoided it)
      'jwtexchange_spicedb_checks_total', // only with a spicedb section and SpiceDB traffic
      'jwtexchange_spicedb_decision_cache_total',
      'jwtexchange_sts_requests_total', // recorded by the token-exchange server, not the sidecar
    ]);
  });

  it('is queried only by labels it has', () => {
    const problems: string[] = [];
    for (const { where, expr } of queries()) {
      const refs = promqlRefs(expr);
      const known = new Set(TARGET_LABELS);
      for (const metric of refs.metrics) for (const l of declared.get(metric) ?? []) known.add(l);
      for (const [metric, labels] of refs.selectorLabels) {
        const own = new Set([...TARGET_LABELS, ...(declared.get(metric) ?? [])]);
        for (const l of labels)
          if (!own.has(l)) problems.push(`${where}: ${metric} has no label ${l}`);
      }
      for (const l of refs.groupingLabels) {
        if (!known.has(l)) problems.push(`${where}: no metric in the query has label ${l}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the live scrape really contains the families the health row needs', () => {
    for (const name of [
      'jwtexchange_checks_total',
      'jwtexchange_check_duration_seconds_bucket',
      'jwtexchange_checks_in_flight',
      'jwtexchange_build_info',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(scrape.names.has(name), name).toBe(true);
    }
  });
});
