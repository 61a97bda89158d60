import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIPPED_CONFIGS, validateEnvoyConfig } from '../helpers/envoy.js';
import { ROOT } from '../helpers/tools.js';

/** Every Envoy config the project ships must load in a real Envoy (`envoy --mode validate`). */
const files = SHIPPED_CONFIGS;

describe('envoy/ configs', () => {
  it('has configs to check', () => {
    // Both directions over both ext_authz transports (gRPC, and HTTP: the *-http.yaml twins).
    expect(files).toEqual(
      expect.arrayContaining([
        'ingress.yaml',
        'egress.yaml',
        'ingress-http.yaml',
        'egress-http.yaml',
      ]),
    );
  });

  it.each(files)('%s passes envoy --mode validate', async (file) => {
    expect(await validateEnvoyConfig(path.join(ROOT, 'envoy', file))).toMatch(/OK/);
  });
});
