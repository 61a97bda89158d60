import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import { ConfigError } from '../../../../src/errors.js';

/** outbound.tokenExchange, outbound.audiences[].resource and inbound exchange settings. */
const FILES = { certFile: 'gw.pem', keyFile: 'gw.key', caFile: 'ca.pem' };
const INTERNAL = {
  issuer: 'https://sts.example',
  jwksUri: 'https://sts.example/jwks',
  audiences: ['gateway', 'urn:gateway'],
};
const AUTH = {
  issuer: 'https://auth.example',
  jwksUri: 'https://auth.example/jwks',
  audiences: ['x'],
};

function problems(doc: unknown): { path: string; message: string }[] {
  try {
    parseConfig(doc, '/etc/jwtx');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  return [];
}

const outbound = (tokenExchange: object, audiences: object[] = [{ audience: 'vmcontroller' }]) => ({
  outbound: { tokenExchange: { ...FILES, ...tokenExchange }, audiences },
});

describe('outbound.tokenExchange', () => {
  it('takes an issuer (discovery) and a clientId instead of a tokenUrl', () => {
    const config = parseConfig(
      outbound({ issuer: 'https://sts.example/realms/platform', clientId: 'gateway' }),
      '/etc/jwtx',
    );
    expect(config.outbound!.tokenExchange).toMatchObject({
      issuer: 'https://sts.example/realms/platform',
      clientId: 'gateway',
      discoveryRefreshMs: 3_600_000,
      certFile: '/etc/jwtx/gw.pem',
    });
  });

  it.each([
    [
      'neither tokenUrl nor issuer',
      {},
      'outbound.tokenExchange',
      /exactly one of tokenUrl or issuer/,
    ],
    [
      'both',
      { tokenUrl: 'https://s/token', issuer: 'https://s' },
      'outbound.tokenExchange',
      /exactly one/,
    ],
    [
      'an issuer with a query',
      { issuer: 'https://s/?tenant=a' },
      'outbound.tokenExchange.issuer',
      /no query or fragment/,
    ],
    [
      'an issuer with a fragment',
      { issuer: 'https://s/#x' },
      'outbound.tokenExchange.issuer',
      /no query or fragment/,
    ],
    [
      'an http issuer off loopback',
      { issuer: 'http://sts.example' },
      'outbound.tokenExchange.issuer',
      /https/,
    ],
    [
      'an empty clientId',
      { issuer: 'https://s', clientId: '' },
      'outbound.tokenExchange.clientId',
      /./,
    ],
  ])('refuses %s', (_name, te, keyPath, message) => {
    const found = problems(outbound(te));
    expect(found.map((p) => p.path)).toEqual([keyPath]);
    expect(found[0]!.message).toMatch(message);
  });
});

describe('outbound.audiences[].resource', () => {
  it.each(['urn:vmcontroller', 'https://vmcontroller.platform.svc/', 'https://v.example/api?x=1'])(
    'accepts the absolute URI %s',
    (resource) => {
      expect(
        problems(outbound({ tokenUrl: 'https://s/t' }, [{ audience: 'vm', resource }])),
      ).toEqual([]);
    },
  );

  it.each(['vmcontroller', '/relative', 'https://v.example/#frag', 'urn:with space'])(
    'refuses %s (RFC 8707: absolute URI without fragment)',
    (resource) => {
      expect(
        problems(outbound({ tokenUrl: 'https://s/t' }, [{ audience: 'vm', resource }])).map(
          (p) => p.path,
        ),
      ).toEqual(['outbound.audiences[0].resource']);
    },
  );
});

describe('inbound.issuers[].exchange', () => {
  const doc = (exchange: object) => ({
    inbound: { issuers: [INTERNAL, { ...AUTH, exchange }] },
    ...outbound({ tokenUrl: 'https://sts.example/token' }),
  });

  it('defaults subject_token_type to …:jwt and sends no requested_token_type', () => {
    const e = parseConfig(doc({ audience: 'gateway' }), '/').inbound.issuers[1]!.exchange;
    expect(e).toEqual({
      audience: 'gateway',
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    });
  });

  it('takes a resource, an access_token subject type and a requested type', () => {
    const e = parseConfig(
      doc({
        resource: 'urn:gateway',
        subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
        requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      }),
      '/',
    ).inbound.issuers[1]!.exchange;
    expect(e).toMatchObject({ resource: 'urn:gateway' });
  });

  it('accepts a same-issuer exchange when the token server is that issuer (Keycloak realm)', () => {
    const realm = { ...AUTH, issuer: 'https://kc.example/realms/platform', audiences: ['gateway'] };
    const config = {
      inbound: { issuers: [{ ...realm, exchange: { audience: 'vmcontroller' } }] },
      ...outbound({ issuer: realm.issuer, clientId: 'gateway' }),
    };
    expect(problems(config)).toEqual([]);
    const other = {
      ...config,
      ...outbound({ issuer: 'https://sts.example', clientId: 'gateway' }),
    };
    expect(problems(other).map((p) => p.path)).toEqual(['inbound.issuers[0].exchange.audience']);
  });

  it.each([
    ['neither audience nor resource', {}, 'inbound.issuers[1].exchange'],
    ['both', { audience: 'gateway', resource: 'urn:gateway' }, 'inbound.issuers[1].exchange'],
    [
      'an unknown token type',
      { audience: 'gateway', subjectTokenType: 'jwt' },
      'inbound.issuers[1].exchange.subjectTokenType',
    ],
    [
      'a resource no issuer accepts',
      { resource: 'urn:billing' },
      'inbound.issuers[1].exchange.resource',
    ],
  ])('refuses %s', (_name, exchange, keyPath) => {
    expect(problems(doc(exchange)).map((p) => p.path)).toEqual([keyPath]);
  });
});
