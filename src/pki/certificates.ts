import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

/**
 * Certificate building blocks for the development PKI: an ECDSA P-256 CA and the leaf
 * certificates it signs. Everything is made by @peculiar/x509; nothing here hand-writes DER.
 */
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates start a little in the past so a peer whose clock is slightly behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

export interface Issued {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
}

export interface CertificateAuthority extends Issued {
  readonly name: string;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

export interface LeafOptions {
  /** Subject common name. */
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
  readonly usage: 'server' | 'client';
  readonly validDays?: number;
  /** For tests of expiry handling; defaults to now. */
  readonly notBefore?: Date;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(days: number, start = new Date()): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(start.getTime() - BACKDATE_MS),
    notAfter: new Date(start.getTime() + days * DAY_MS),
  };
}

/** A self-signed CA that may sign leaf certificates only (path length 0). */
export async function createCa(name: string, validDays = 3650): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: ALG,
    ...validity(validDays),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    name,
    keys,
    certificate,
    cert: certificate.toString('pem'),
    key: await exportKey(keys.privateKey),
  };
}

/** Loads a CA written earlier (PEM certificate + PKCS#8 key) so more leaves can be issued. */
export async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const certificate = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(keyPem),
    ALG,
    true,
    ['sign'],
  );
  const publicKey = await certificate.publicKey.export(ALG, ['verify']);
  const name = certificate.subjectName.getField('CN')[0] ?? certificate.subject;
  return { name, keys: { privateKey, publicKey }, certificate, cert: certPem, key: keyPem };
}

function subjectAltNames(o: LeafOptions): x509.JsonGeneralNames {
  return [
    ...(o.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(o.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
}

/** A leaf certificate signed by the CA, for TLS servers or for TLS clients (mTLS). */
export async function issueLeaf(ca: CertificateAuthority, o: LeafOptions): Promise<Issued> {
  const keys = await generateKeys();
  const sans = subjectAltNames(o);
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${o.commonName}`,
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    ...validity(o.validDays ?? 365, o.notBefore),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [
          o.usage === 'server'
            ? x509.ExtendedKeyUsage.serverAuth
            : x509.ExtendedKeyUsage.clientAuth,
        ],
        false,
      ),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert: certificate.toString('pem'), key: await exportKey(keys.privateKey) };
}
