import { X509Certificate } from 'node:crypto';

/**
 * The names a certificate carries, for humans: `CN=gateway, DNS:gateway, URI:spiffe://…`.
 * Node's own X509Certificate, not @peculiar/x509: the sidecar describes its client certificate at
 * start, and that library's import graph alone costs a third of the start time.
 */
export function describeCertificateNames(pem: string | Buffer): string {
  const cert = new X509Certificate(pem);
  const names = cert.subject.split('\n').filter((n) => n !== '');
  if (cert.subjectAltName) names.push(cert.subjectAltName);
  return names.join(', ');
}

/** Serial (lower-case hex) and expiry of a certificate, for logs and metrics. */
export function certificateValidity(pem: string | Buffer): { serial: string; notAfter: Date } {
  const cert = new X509Certificate(pem);
  return { serial: cert.serialNumber.toLowerCase(), notAfter: new Date(cert.validTo) };
}
