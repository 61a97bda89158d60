import { describe, expect, it } from 'vitest';
import { OBJECT_TYPE, PERMISSION } from '../../../src/config/spicedb-names.js';

describe('OBJECT_TYPE', () => {
  it.each(['cloud', 'abc', 'user_1', 'acme/cloud', 'ab1/b2c', 'x'.repeat(64)])(
    'accepts %s',
    (v) => {
      expect(OBJECT_TYPE.test(v)).toBe(true);
    },
  );
  it.each([
    '',
    'ab',
    'Cloud',
    '1cloud',
    'cloud_',
    'a1_/b2c',
    'acme/',
    '/cloud',
    'ac-me',
    'x'.repeat(65),
  ])('refuses %o', (v) => {
    expect(OBJECT_TYPE.test(v)).toBe(false);
  });
});

describe('PERMISSION', () => {
  it.each(['view', 'can_view', 'abc', 'x'.repeat(64)])('accepts %s', (v) => {
    expect(PERMISSION.test(v)).toBe(true);
  });
  it.each(['', 'ab', 'View', '_view', 'view_', 'a/view', 'can-view', 'x'.repeat(65)])(
    'refuses %o',
    (v) => {
      expect(PERMISSION.test(v)).toBe(false);
    },
  );
});
