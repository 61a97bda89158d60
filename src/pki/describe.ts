import { x509 } from './x509.js';

/** The names a certificate carries, for humans: `CN=gateway, DNS:gateway, URI:spiffe://…`. */
export function describeCertificateNames(pem: string | Buffer): string {
  const cert = new x509.X509Certificate(pem.toString());
  const label: Record<string, string> = { dns: 'DNS', url: 'URI', ip: 'IP', email: 'email' };
  const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  return [cert.subject, ...sans.map((n) => `${label[n.type] ?? n.type}:${n.value}`)].join(', ');
}
