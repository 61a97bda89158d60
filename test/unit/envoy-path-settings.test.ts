import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SHIPPED_CONFIGS } from '../helpers/envoy.js';
import { pathSettingProblems } from '../helpers/envoy-path-settings.js';
import { ROOT } from '../helpers/tools.js';

/**
 * Every shipped Envoy config normalizes paths the way the authorization rules expect
 * (docs/security.md). The chart's renders are checked in test/integration/helm-envoy.test.ts,
 * and every Envoy a test or the demo starts is checked by test/helpers/envoy.ts.
 */
const files = SHIPPED_CONFIGS;
const load = (f: string) => parse(readFileSync(path.join(ROOT, 'envoy', f), 'utf8'));

describe('envoy/*.yaml path settings', () => {
  it('checks every shipped config, over both transports', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'ingress.yaml',
        'egress.yaml',
        'ingress-http.yaml',
        'egress-http.yaml',
      ]),
    );
  });

  it.each(files)(
    '%s sets normalize_path, merge_slashes and REJECT_REQUEST on every listener',
    (f) => {
      expect(pathSettingProblems(load(f))).toEqual([]);
    },
  );

  it('finds a listener that lacks one (the check can fail)', () => {
    const config = load('ingress.yaml');
    delete config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
      .merge_slashes;
    expect(pathSettingProblems(config)).toEqual([
      'listener ingress: merge_slashes is undefined, not true',
    ]);
    expect(pathSettingProblems({ static_resources: { listeners: [] } })).toEqual([
      'no http_connection_manager found',
    ]);
  });
});
