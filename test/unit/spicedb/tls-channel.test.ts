import { X509Certificate } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCa, issueLeaf } from '../../../src/pki/certificates.js';
import { IP_ENDPOINT_SERVER_NAME, tlsChannel } from '../../../src/spicedb/tls-channel.js';

const ca = await createCa('tls-channel test CA');
const leaf = async (names: { dnsNames?: string[]; ipAddresses?: string[] }) =>
  new X509Certificate(
    (await issueLeaf(ca, { commonName: 'spicedb', usage: 'server', ...names })).cert,
  ).toLegacyObject();

describe("tlsChannel's identity: the endpoint's host", () => {
  it.each([
    ['spicedb.authz.svc:50051', 'spicedb.authz.svc'],
    ['10.0.0.5:50051', '10.0.0.5'],
    ['[::1]:50051', '::1'],
    ['[fd00::5]:443', 'fd00::5'],
    // A unix socket is left to grpc-js, which names it `localhost` and checks that itself.
    ['unix:///run/spicedb.sock', undefined],
  ])('%s → %s', (endpoint, host) => {
    expect(tlsChannel(endpoint).identity).toBe(host);
  });
});

describe('tlsChannel', () => {
  it('names an IP endpoint in the handshake with a name that claims no host; a DNS name as is', () => {
    for (const endpoint of ['10.0.0.5:50051', '[::1]:50051']) {
      expect(tlsChannel(endpoint).options).toEqual({
        'grpc.ssl_target_name_override': IP_ENDPOINT_SERVER_NAME,
      });
    }
    expect(IP_ENDPOINT_SERVER_NAME.endsWith('.invalid')).toBe(true);
    expect(tlsChannel('spicedb.authz.svc:50051').options).toEqual({});
  });

  it("holds the certificate to the endpoint's host, whatever name the handshake sent", async () => {
    const byIp = tlsChannel('127.0.0.1:50051');
    expect(byIp.identity).toBe('127.0.0.1');
    const ipCert = await leaf({ ipAddresses: ['127.0.0.1'] });
    const dnsCert = await leaf({ dnsNames: ['localhost'] });
    expect(byIp.checkServerIdentity(IP_ENDPOINT_SERVER_NAME, ipCert)).toBeUndefined();
    expect(byIp.checkServerIdentity(IP_ENDPOINT_SERVER_NAME, dnsCert)).toBeInstanceOf(Error);
    expect(
      byIp.checkServerIdentity('127.0.0.1', await leaf({ ipAddresses: ['10.0.0.9'] })),
    ).toBeInstanceOf(Error);

    // A unix socket keeps Node's own check (grpc-js calls it with `localhost`), and no override.
    const bySocket = tlsChannel('unix:///run/spicedb.sock');
    expect(bySocket.checkServerIdentity).toBe(checkServerIdentity);
    expect(bySocket.options).toEqual({});

    const byName = tlsChannel('localhost:50051');
    expect(byName.checkServerIdentity('localhost', dnsCert)).toBeUndefined();
    expect(byName.checkServerIdentity('localhost', ipCert)).toBeInstanceOf(Error);
  });
});
