import { beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  issueLeaf,
  type CertificateAuthority,
  type LeafOptions,
} from '../../../src/pki/certificates.js';
import { x509 } from '../../../src/pki/x509.js';
import {
  serviceNameFromCertificate,
  type ClientIdentityRule,
} from '../../../src/token-exchange/client-identity.js';

const URI: ClientIdentityRule = { source: 'uri-san', uriPrefix: 'spiffe://jwtexchange.dev/' };
const DNS: ClientIdentityRule = { ...URI, source: 'dns-san' };
const CN: ClientIdentityRule = { ...URI, source: 'cn' };

describe('serviceNameFromCertificate', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await createCa('unit CA');
  });

  const der = async (o: Partial<LeafOptions>) => {
    const { cert } = await issueLeaf(ca, { commonName: 'gateway', usage: 'client', ...o });
    return new Uint8Array(new x509.X509Certificate(cert).rawData);
  };

  it('reads the service from the URI SAN after the exact prefix', async () => {
    const cert = await der({ uris: ['spiffe://jwtexchange.dev/gateway'], dnsNames: ['other'] });
    expect(serviceNameFromCertificate(cert, URI)).toEqual({ name: 'gateway' });
  });

  it('ignores URIs with another prefix, and says when none is left', async () => {
    const cert = await der({
      uris: ['spiffe://evil.dev/gateway', 'spiffe://jwtexchange.dev.evil/gateway'],
    });
    expect(serviceNameFromCertificate(cert, URI)).toEqual({
      problem: 'the client certificate has no URI SAN starting with spiffe://jwtexchange.dev/',
    });
  });

  it('refuses two candidate names as ambiguous', async () => {
    const cert = await der({
      uris: ['spiffe://jwtexchange.dev/gateway', 'spiffe://jwtexchange.dev/admin'],
    });
    expect(serviceNameFromCertificate(cert, URI)).toMatchObject({
      problem: expect.stringContaining('exactly one'),
    });
  });

  it('refuses a remainder that is not a plain service name', async () => {
    for (const uri of ['spiffe://jwtexchange.dev/ns/gateway', 'spiffe://jwtexchange.dev/Gateway']) {
      const cert = await der({ uris: [uri] });
      expect(serviceNameFromCertificate(cert, URI)).toMatchObject({
        problem: expect.stringContaining('not a valid service name'),
      });
    }
  });

  it('reads the DNS SAN or the CN when configured so', async () => {
    const cert = await der({ commonName: 'vmcontroller', dnsNames: ['gateway'] });
    expect(serviceNameFromCertificate(cert, DNS)).toEqual({ name: 'gateway' });
    expect(serviceNameFromCertificate(cert, CN)).toEqual({ name: 'vmcontroller' });
  });

  it('answers a problem, not an exception, for bytes that are not a certificate', () => {
    expect(serviceNameFromCertificate(new Uint8Array([1, 2, 3]), URI)).toEqual({
      problem: 'the client certificate cannot be parsed',
    });
  });
});
