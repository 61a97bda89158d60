import { describe, expect, it } from 'vitest';
import { parseGrpcTimeout } from '../../../src/grpc/timeout.js';

describe('parseGrpcTimeout', () => {
  it.each([
    ['2H', 7_200_000],
    ['3M', 180_000],
    ['5S', 5_000],
    ['250m', 250],
    ['1500u', 1.5],
    ['2000000n', 2],
    ['99999999S', 99_999_999_000],
    ['0m', 0],
  ])('%s is %d ms', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBe(ms);
  });

  it('is undefined without the header', () => {
    expect(parseGrpcTimeout(undefined)).toBeUndefined();
  });

  it.each([
    ['nine digits', '123456789m'],
    ['no unit', '250'],
    ['an unknown unit', '250s'],
    ['a sign', '-5S'],
    ['a fraction', '1.5S'],
    ['spaces', ' 5S'],
    ['empty', ''],
    ['repeated', ['5S', '6S']],
  ])('%s is invalid', (_what, value) => {
    expect(parseGrpcTimeout(value)).toBe('invalid');
  });
});
