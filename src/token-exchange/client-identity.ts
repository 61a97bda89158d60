import type { TLSSocket } from 'node:tls';
import { isServiceName } from '../pki/service-name.js';
import { x509 } from '../pki/x509.js';
import { OAuthError } from './oauth-error.js';

/** Which certificate field names the calling service (config `clientIdentity`). */
export interface ClientIdentityRule {
  readonly source: 'uri-san' | 'dns-san' | 'cn';
  readonly uriPrefix: string;
}

/**
 * The service name a certificate carries under the rule, or a reason why it carries none. The
 * certificate must hold exactly one candidate value: two would make the identity ambiguous. The
 * name is compared exactly (prefix + name for URIs) and must be a plain service name.
 */
export function serviceNameFromCertificate(
  der: Uint8Array,
  rule: ClientIdentityRule,
): { name: string } | { problem: string } {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch {
    return { problem: 'the client certificate cannot be parsed' };
  }
  const candidates = candidateValues(cert, rule);
  const where = describe(rule);
  if (candidates.length === 0) return { problem: `the client certificate has no ${where}` };
  if (candidates.length > 1) {
    return {
      problem: `the client certificate has ${candidates.length} ${where} values; exactly one is required`,
    };
  }
  const name = candidates[0]!;
  if (!isServiceName(name)) {
    return { problem: `the ${where} of the client certificate is not a valid service name` };
  }
  return { name };
}

function candidateValues(cert: x509.X509Certificate, rule: ClientIdentityRule): string[] {
  if (rule.source === 'cn') return cert.subjectName.getField('CN');
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  if (rule.source === 'dns-san') return names.filter((n) => n.type === 'dns').map((n) => n.value);
  return names
    .filter((n) => n.type === 'url' && n.value.startsWith(rule.uriPrefix))
    .map((n) => n.value.slice(rule.uriPrefix.length));
}

function describe(rule: ClientIdentityRule): string {
  if (rule.source === 'cn') return 'subject CN';
  if (rule.source === 'dns-san') return 'DNS SAN';
  return `URI SAN starting with ${rule.uriPrefix}`;
}

/**
 * Authenticates the caller of a TLS connection (RFC 8705 tls_client_auth). The server asks for
 * a certificate but does not abort the handshake without one, so a caller without a trusted
 * certificate gets an RFC 6749 `invalid_client` answer that says what is wrong.
 */
export function authenticateClient(socket: TLSSocket, rule: ClientIdentityRule): string {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) {
    throw new OAuthError(
      'invalid_client',
      'no client certificate was presented; token-exchange requires mutual TLS',
    );
  }
  if (!socket.authorized) {
    const why = socket.authorizationError ? ` (${String(socket.authorizationError)})` : '';
    throw new OAuthError(
      'invalid_client',
      `the client certificate is not trusted by token-exchange${why}`,
    );
  }
  const result = serviceNameFromCertificate(peer.raw, rule);
  if ('problem' in result) throw new OAuthError('invalid_client', result.problem);
  return result.name;
}
