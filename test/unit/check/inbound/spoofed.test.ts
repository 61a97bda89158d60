import { describe, expect, it } from 'vitest';
import { spoofedHeaders } from '../../../../src/check/inbound/spoofed.js';

describe('spoofedHeaders', () => {
  it('lists every client-supplied x-jwtauth-* header and nothing else', () => {
    const headers = {
      authorization: 'Bearer t',
      'x-jwtauth-subject': 'admin',
      'x-jwtauth-claims': 'e30',
      'x-jwtauth-': 'empty suffix',
      'x-jwtauthx': 'not the prefix',
      'x-jwt-subject': 'other prefix',
    };
    expect(spoofedHeaders(headers, []).sort()).toEqual([
      'x-jwtauth-',
      'x-jwtauth-claims',
      'x-jwtauth-subject',
    ]);
  });

  it('never removes a header that is being set (Envoy applies removals after sets)', () => {
    const headers = {
      'x-jwtauth-subject': 'admin',
      'x-jwtauth-issuer': 'evil',
      'x-jwtauth-role': 'root',
    };
    const setting = [
      ['x-jwtauth-subject', 'alice'],
      ['x-jwtauth-issuer', 'https://issuer'],
      ['x-jwtauth-claims', 'e30'],
    ] as const;
    const removed = spoofedHeaders(headers, setting);
    expect(removed).toEqual(['x-jwtauth-role']);
    for (const [name] of setting) expect(removed).not.toContain(name);
  });

  it('removes nothing when the client sent none', () => {
    expect(spoofedHeaders({ authorization: 'Bearer t' }, [['x-jwtauth-subject', 'a']])).toEqual([]);
  });
});
