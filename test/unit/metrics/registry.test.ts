import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry, PACKAGE_VERSION } from '../../../src/metrics/registry.js';
import { ROOT } from '../../helpers/tools.js';

/** A registry whose gauge runs the hooks onCollect registered, as sidecar.ts's gauges do. */
class Hooked extends MetricsRegistry {
  readonly age = new Gauge({
    name: 'x_age_seconds',
    help: 'age',
    registers: [this.registry],
    collect: this.hooked('x_age_seconds'),
  });
}

describe('MetricsRegistry', () => {
  it('reads the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });

  it('says which build runs, and has the process metrics unless told not to', async () => {
    const text = await new MetricsRegistry({ version: '9.9.9' }).registry.metrics();
    expect(text).toMatch(/^jwtexchange_build_info\{version="9\.9\.9"\} 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^# TYPE jwtexchange_jwks_fetches_total counter$/m);
    const bare = await new MetricsRegistry({ defaultMetrics: false }).registry.metrics();
    expect(bare).not.toMatch(/^process_/m);
    expect(bare).toMatch(/^jwtexchange_build_info\{version="[^"]+"\} 1$/m);
  });

  it('runs every onCollect hook of a gauge at each scrape', async () => {
    const m = new Hooked({ defaultMetrics: false });
    let scrapes = 0;
    m.onCollect(m.age, () => m.age.set(++scrapes * 10));
    m.onCollect(m.age, () => (scrapes += 100));
    expect(await m.registry.metrics()).toMatch(/^x_age_seconds 10$/m);
    expect(await m.registry.metrics()).toMatch(/^x_age_seconds 1020$/m);
  });
});
