import { describe, expect, it } from 'vitest';
import { firstDuplicateMember } from '../../../src/jwt/duplicate-members.js';

describe('firstDuplicateMember', () => {
  it.each([
    ['no duplicates', '{"sub":"a","aud":"b"}', undefined],
    ['a repeated top-level member', '{"sub":"admin","aud":"b","sub":"svc"}', 'sub'],
    ['whitespace around names', '{ "sub" : 1 ,\n "sub":2 }', 'sub'],
    ['the same name written with an escape', '{"sub":1,"s\\u0075b":2}', 'sub'],
    ['a value equal to a member name', '{"sub":"aud","aud":"sub"}', undefined],
    ['escaped quotes inside a value', '{"a":"x\\",\\"a\\":\\"y","b":1}', undefined],
    ['escaped quotes inside a name', '{"a\\"b":1,"a\\"b":2}', 'a"b'],
    ['a backslash before the closing quote', '{"a":"x\\\\","a":2}', 'a'],
    ['the same name in a nested object and at the top', '{"sub":"a","act":{"sub":"b"}}', undefined],
    ['a duplicate inside a nested object', '{"act":{"sub":"a","sub":"b"}}', 'sub'],
    ['a duplicate after a nested object closes', '{"act":{"x":1},"y":2,"act":3}', 'act'],
    ['strings in arrays are not names', '{"aud":["aud","aud"],"x":1}', undefined],
    ['objects inside arrays are checked', '{"l":[{"k":1},{"k":2,"k":3}]}', 'k'],
    ['names in sibling objects are separate', '{"l":[{"k":1},{"k":2}]}', undefined],
    ['an empty object', '{}', undefined],
  ])('%s', (_name, json, expected) => {
    expect(() => JSON.parse(json)).not.toThrow();
    expect(firstDuplicateMember(json)).toBe(expected);
  });
});
