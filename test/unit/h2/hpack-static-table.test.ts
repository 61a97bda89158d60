import { describe, expect, it } from 'vitest';
import { STATIC_TABLE } from '../../../src/h2/hpack-static-table.js';

describe('STATIC_TABLE (RFC 7541 Appendix A)', () => {
  it('has 61 entries with lowercase names', () => {
    expect(STATIC_TABLE).toHaveLength(61);
    for (const [name] of STATIC_TABLE) expect(name).toBe(name.toLowerCase());
  });

  it.each([
    [1, ':authority', ''],
    [2, ':method', 'GET'],
    [7, ':scheme', 'https'],
    [8, ':status', '200'],
    [14, ':status', '500'],
    [16, 'accept-encoding', 'gzip, deflate'],
    [31, 'content-type', ''],
    [55, 'set-cookie', ''],
    [61, 'www-authenticate', ''],
  ])('index %i is %s: %s', (index, name, value) => {
    expect(STATIC_TABLE[index - 1]).toEqual([name, value]);
  });
});
