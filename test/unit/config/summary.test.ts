import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { settings, summarizeConfig } from '../../../src/config/summary.js';

describe('settings', () => {
  it.each<[object, string]>([
    [{ a: 1, b: true, c: 'x' }, 'a=1  b=true  c=x'],
    [{ list: ['a', 'b c'], obj: { k: 1 } }, 'list=[a,"b c"]  obj={"k":1}'],
    [{ spaced: 'a b', eq: 'a=b', empty: '' }, 'spaced="a b"  eq="a=b"  empty=""'],
    [{ gone: undefined, kept: null }, 'kept=null'],
  ])('prints %o as %s', (obj, line) => {
    expect(settings(obj)).toBe(line);
  });

  it('skips the keys it is told to skip', () => {
    expect(settings({ tokenUrl: 'https://sts', timeoutMs: 5 }, ['tokenUrl'])).toBe('timeoutMs=5');
  });

  it.each([
    ['clientSecret', 's3cr3t-value'],
    ['password', 's3cr3t-value'],
    ['keyPassphrase', 's3cr3t-value'],
    ['serviceToken', 's3cr3t-value'],
    ['SECRET', 's3cr3t-value'],
  ])('never prints the value of %s', (key, value) => {
    const line = settings({ [key]: value });
    expect(line).toBe(`${key}=(set)`);
    expect(line).not.toContain(value);
  });

  it('prints the path of a file that holds a secret', () => {
    expect(settings({ clientSecretFile: '/run/secret' })).toBe('clientSecretFile=/run/secret');
  });
});

describe('summarizeConfig', () => {
  it('says what an empty configuration does', () => {
    expect(summarizeConfig(parseConfig({}))).toEqual([
      '  server         grpc 127.0.0.1:9191, http 127.0.0.1:9464; log info',
      '  inbound        mode enforce, 0 issuer(s)',
      '    (no issuers: every inbound request is denied)',
      '  outbound       none (saga-tagged routes are denied: audience_not_allowed)',
      '  authorization  none (no permission checks)',
    ]);
  });

  it('lists issuers, SpiceDB and every rule with its subject and dry-run', () => {
    const config = parseConfig({
      inbound: {
        issuers: [
          {
            issuer: 'https://auth.example',
            jwksUri: 'https://auth.example/jwks',
            audiences: ['gw'],
          },
        ],
      },
      spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
      authorization: {
        rules: [
          {
            name: 'create',
            match: { http: 'POST /v2/namespaces/{cluster}' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'create_saga',
            subject: { claim: 'email' },
          },
          {
            match: { grpc: 'gateway.v2.NamespaceService/*' },
            resource: { type: 'cloud', id: { value: 'main' } },
            permission: 'view',
            subject: { from: 'actor' },
            dryRun: true,
          },
        ],
      },
    });
    expect(summarizeConfig(config).slice(1)).toEqual([
      '  inbound        mode enforce, 1 issuer(s)',
      '    https://auth.example',
      '      keys from jwksUri https://auth.example/jwks; audiences gw; algorithms ES256',
      '  outbound       none (saga-tagged routes are denied: audience_not_allowed)',
      '  spicedb        127.0.0.1:1 (plaintext), preshared key from $K, timeout 250 ms',
      '  authorization  default deny, 2 rule(s)',
      '    create: POST /v2/namespaces/{cluster} → cloud:{param cluster}#create_saga (subject claim email)',
      '    grpc gateway.v2.NamespaceService/*: grpc gateway.v2.NamespaceService/* → cloud:main#view (subject: the actor, act.sub) [dry-run]',
    ]);
  });
});
