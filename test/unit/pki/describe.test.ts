import { beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, type CertificateAuthority } from '../../../src/pki/certificates.js';
import { certificateValidity, describeCertificateNames } from '../../../src/pki/describe.js';

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await createCa('jwtexchange test CA');
});

describe('describeCertificateNames', () => {
  it('lists the subject and every subject alternative name', async () => {
    const leaf = await issueLeaf(ca, {
      commonName: 'gateway',
      dnsNames: ['gateway', 'gateway.ns'],
      ipAddresses: ['127.0.0.1'],
      uris: ['spiffe://cluster.local/ns/a/sa/gateway'],
      usage: 'client',
    });
    expect(describeCertificateNames(leaf.cert)).toBe(
      'CN=gateway, DNS:gateway, DNS:gateway.ns, IP Address:127.0.0.1, URI:spiffe://cluster.local/ns/a/sa/gateway',
    );
    expect(describeCertificateNames(Buffer.from(leaf.cert))).toBe(
      describeCertificateNames(leaf.cert),
    );
  });

  it('lists the subject alone when there is no alternative name', async () => {
    const leaf = await issueLeaf(ca, { commonName: 'bare', usage: 'server' });
    expect(describeCertificateNames(leaf.cert)).toBe('CN=bare');
  });

  it('refuses what is not a certificate', () => {
    expect(() => describeCertificateNames('not a certificate')).toThrow();
  });
});

describe('certificateValidity', () => {
  it('gives the serial in lower-case hex and the expiry to the second', async () => {
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const leaf = await issueLeaf(ca, {
      commonName: 'x',
      usage: 'server',
      validDays: 10,
      notBefore,
    });
    const { serial, notAfter } = certificateValidity(leaf.cert);
    expect(serial).toMatch(/^[0-9a-f]+$/);
    expect(notAfter.toISOString()).toBe('2030-01-11T00:00:00.000Z');
  });

  it('tells two certificates apart by serial', async () => {
    const a = await issueLeaf(ca, { commonName: 'a', usage: 'server' });
    const b = await issueLeaf(ca, { commonName: 'a', usage: 'server' });
    expect(certificateValidity(a.cert).serial).not.toBe(certificateValidity(b.cert).serial);
  });
});
