import { describe, expect, it } from 'vitest';
import type { IdSourceConfig } from '../../../src/config/sections/authorization.js';
import { JwtxError } from '../../../src/errors.js';
import {
  claimAsId,
  encodeId,
  resourceId,
  type IdInputs,
} from '../../../src/spicedb/check-target.js';
import { encodeObjectId, MAX_OBJECT_ID_BYTES } from '../../../src/spicedb/object-id.js';

const INPUTS: IdInputs = {
  params: { cluster: 'cl0', empty: '' },
  headers: { 'x-cluster': 'cl1', 'x-empty': '' },
  claims: { sub: 'alice', org: 42, big: Infinity, blank: '', flag: true },
};

describe('claimAsId', () => {
  it.each([
    ['sub', 'alice'],
    ['org', '42'],
    ['big', undefined],
    ['blank', undefined],
    ['flag', undefined],
    ['absent', undefined],
  ])('claim %s → %s', (name, expected) => {
    expect(claimAsId(INPUTS.claims, name)).toBe(expected);
  });
});

describe('resourceId', () => {
  it.each<[IdSourceConfig, string]>([
    [{ param: 'cluster' }, 'cl0'],
    [{ header: 'x-cluster' }, 'cl1'],
    [{ claim: 'sub' }, 'alice'],
    [{ claim: 'org' }, '42'],
    [{ value: 'fixed' }, 'fixed'],
  ])('reads %o', (source, raw) => {
    expect(resourceId(source, INPUTS, 'cloud')).toBe(encodeObjectId(raw));
  });

  it.each<[IdSourceConfig, string]>([
    [{ param: 'empty' }, 'cloud id (path parameter {empty}) is missing or empty'],
    [{ param: 'nope' }, 'cloud id (path parameter {nope}) is missing or empty'],
    [{ header: 'x-empty' }, 'cloud id (header x-empty) is missing or empty'],
    [{ claim: 'big' }, 'cloud id (claim big) is missing or empty'],
  ])('refuses an absent or empty %o as invalid_object_id', (source, message) => {
    let err: unknown;
    try {
      resourceId(source, INPUTS, 'cloud');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JwtxError);
    expect((err as JwtxError).code).toBe('invalid_object_id');
    expect((err as JwtxError).message).toBe(message);
  });
});

describe('encodeId', () => {
  it('refuses an id too long for SpiceDB, without quoting it', () => {
    const raw = 'a'.repeat(MAX_OBJECT_ID_BYTES + 1);
    let err: unknown;
    try {
      encodeId(raw, 'subject id');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JwtxError);
    expect((err as JwtxError).code).toBe('invalid_object_id');
    expect((err as JwtxError).message).toMatch(/^subject id: /);
    expect((err as JwtxError).message).not.toContain(raw);
  });

  it('refuses a lone surrogate', () => {
    expect(() => encodeId('a\ud800', 'subject id')).toThrow(JwtxError);
  });
});
