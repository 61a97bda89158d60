import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { ConfigError } from '../../../../src/errors.js';

const spicedb = {
  endpoint: '127.0.0.1:50051',
  transport: 'plaintext',
  presharedKeyEnv: 'SPICEDB_KEY',
};
const rule = {
  match: { http: 'POST /v2/namespaces/{cluster}' },
  resource: { type: 'cloud', id: { param: 'cluster' } },
  permission: 'create_saga',
};

function problems(doc: unknown): string[] {
  try {
    parseConfig(doc, '/etc/jwtx');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('spicedb and authorization config', () => {
  it('fills in the documented defaults', () => {
    const c = parseConfig(
      {
        spicedb: { endpoint: 'spicedb:50051', presharedKeyFile: 'key' },
        authorization: { rules: [rule] },
      },
      '/etc/jwtx',
    );
    expect(c.spicedb).toMatchObject({
      transport: 'tls',
      timeoutMs: 250,
      schemaTimeoutMs: 5000,
      presharedKeyFile: '/etc/jwtx/key',
    });
    expect(c.authorization).toMatchObject({
      default: 'deny',
      zedTokenHeader: 'x-spicedb-zedtoken',
      subjects: {
        user: { type: 'user', claim: 'sub' },
        service: { type: 'service', claim: 'sub' },
      },
      cache: { maxEntries: 10_000, ttlMs: 2_000 },
    });
    expect(c.authorization!.rules[0]!.dryRun).toBe(false);
  });

  it('leaves both sections out unless configured', () => {
    const c = parseConfig({});
    expect(c.spicedb).toBeUndefined();
    expect(c.authorization).toBeUndefined();
  });

  it.each([
    [{ authorization: { rules: [rule] } }, 'spicedb: authorization needs a spicedb section'],
    [
      { spicedb: { endpoint: 'x:1' } },
      'spicedb: set exactly one of presharedKeyFile or presharedKeyEnv',
    ],
    [
      { spicedb: { endpoint: 'x:1', presharedKeyFile: 'a', presharedKeyEnv: 'B' } },
      'set exactly one of presharedKeyFile',
    ],
    [{ spicedb: { ...spicedb, endpoint: 'http://x:1' } }, 'spicedb.endpoint: must be host:port'],
    [
      { spicedb: { ...spicedb, caFile: 'ca.pem' } },
      'spicedb.caFile: caFile is only used with transport: tls',
    ],
    [
      { spicedb, authorization: { rules: [{ ...rule, permission: 'Create' }] } },
      'authorization.rules[0].permission: must be a SpiceDB permission name',
    ],
    [
      {
        spicedb,
        authorization: { rules: [{ ...rule, resource: { type: 'cl', id: { param: 'cluster' } } }] },
      },
      'authorization.rules[0].resource.type',
    ],
    [
      { spicedb, authorization: { rules: [{ ...rule, match: { http: 'POST v2' } }] } },
      'authorization.rules[0].match.http: "POST v2" must be "METHOD /path"',
    ],
    [
      { spicedb, authorization: { rules: [{ ...rule, match: {} }] } },
      'authorization.rules[0].match: set exactly one of http or grpc',
    ],
    [
      {
        spicedb,
        authorization: { rules: [{ ...rule, resource: { type: 'cloud', id: { param: 'id' } } }] },
      },
      'authorization.rules[0].resource.id.param: {id} is not a parameter',
    ],
    [
      {
        spicedb,
        authorization: {
          rules: [{ ...rule, resource: { type: 'cloud', id: { param: 'cluster', claim: 'c' } } }],
        },
      },
      'set exactly one of param, header, claim or value',
    ],
    [
      {
        spicedb,
        authorization: {
          rules: [{ ...rule, resource: { type: 'cloud', id: { header: 'X-Cluster' } } }],
        },
      },
      'must be a lower-case HTTP header name',
    ],
    [{ spicedb, authorization: { rules: [{ ...rule, dryrun: true }] } }, 'unknown key(s): dryrun'],
  ])('rejects %j', (doc, message) => {
    expect(problems(doc).join('\n')).toContain(message);
  });
});
