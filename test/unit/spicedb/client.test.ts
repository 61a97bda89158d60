import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { SpicedbConfig } from '../../../src/config/sections/spicedb.js';
import { ConfigError } from '../../../src/errors.js';
import { readPresharedKey } from '../../../src/spicedb/client.js';
import { classifyFailure } from '../../../src/spicedb/failure.js';
import { parseRelationship, parseRelationships } from '../../../src/spicedb/relationship-text.js';

const base: SpicedbConfig = {
  endpoint: '127.0.0.1:50051',
  transport: 'plaintext',
  timeoutMs: 250,
  schemaTimeoutMs: 5000,
  schemaRetryMs: 2000,
};

describe('readPresharedKey', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-key-'));

  it('reads a key file (trailing newline trimmed) or an environment variable', () => {
    writeFileSync(path.join(dir, 'k'), 's3cret\n');
    expect(readPresharedKey({ ...base, presharedKeyFile: path.join(dir, 'k') })).toBe('s3cret');
    expect(
      readPresharedKey({ ...base, presharedKeyEnv: 'SPICE_KEY' }, { SPICE_KEY: 'envkey' }),
    ).toBe('envkey');
  });

  it('fails with a config error naming the source, never the key', () => {
    writeFileSync(path.join(dir, 'empty'), '\n');
    const cases: [SpicedbConfig, string][] = [
      [
        { ...base, presharedKeyFile: path.join(dir, 'missing') },
        'spicedb.presharedKeyFile: cannot read',
      ],
      [{ ...base, presharedKeyFile: path.join(dir, 'empty') }, 'is empty or unset'],
      [
        { ...base, presharedKeyEnv: 'NOPE' },
        'spicedb.presharedKeyEnv: the SpiceDB preshared key in $NOPE',
      ],
    ];
    for (const [cfg, message] of cases) {
      expect(() => readPresharedKey(cfg, {})).toThrow(ConfigError);
      expect(() => readPresharedKey(cfg, {})).toThrow(message);
    }
  });
});

describe('classifyFailure', () => {
  const err = (code: number, details: string) =>
    Object.assign(new Error(details), { code, details });

  it.each([
    [status.UNAVAILABLE, 'unreachable', /SpiceDB at ep:1 is unreachable \(connect ECONNREFUSED\)/],
    [status.DEADLINE_EXCEEDED, 'timeout', /did not answer within 250 ms/],
    [
      status.PERMISSION_DENIED,
      'unauthenticated',
      /rejected the preshared key \(PERMISSION_DENIED: /,
    ],
    [status.UNAUTHENTICATED, 'unauthenticated', /rejected the preshared key/],
    [status.FAILED_PRECONDITION, 'schema_mismatch', /schema does not match/],
    [status.INVALID_ARGUMENT, 'invalid_argument', /refused the request as invalid/],
    [status.INTERNAL, 'other', /SpiceDB call failed \(INTERNAL: /],
  ])('code %i → %s', (code, kind, message) => {
    const f = classifyFailure(err(code, 'connect ECONNREFUSED'), 'ep:1', 250);
    expect(f.kind).toBe(kind);
    expect(f.message).toMatch(message);
  });
});

describe('relationship text', () => {
  it('parses relationships, with optional subject relations, skipping comments', () => {
    const rels = parseRelationships(
      '# c\n\ncloud:cl0#member@user:a=2Eb\nsaga:s1#executor@service:gw\nnamespace:n#cloud@cloud:cl0#member\n',
    );
    expect(rels).toHaveLength(3);
    expect(rels[0]).toMatchObject({
      resource: { objectType: 'cloud', objectId: 'cl0' },
      relation: 'member',
      subject: { object: { objectType: 'user', objectId: 'a=2Eb' }, optionalRelation: '' },
    });
    expect(rels[2]!.subject!.optionalRelation).toBe('member');
  });

  it('rejects lines that are not relationships', () => {
    expect(() => parseRelationship('cloud:cl0 member user:a')).toThrow(/not a relationship/);
  });
});
