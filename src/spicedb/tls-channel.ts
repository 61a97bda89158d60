import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { parseHostPort } from '../net/host-port.js';

/**
 * The server name sent in the TLS handshake to an endpoint given as an IP address. RFC 6066
 * allows only host names there, and Node 26 (the container image's) refuses an IP outright
 * (DEP0123 became an error), but grpc-js 1.14 always names the endpoint's host: every connection
 * to `10.0.0.5:50051` would fail before its handshake. `.invalid` (RFC 6761) never resolves, so
 * the name claims no host.
 */
export const IP_ENDPOINT_SERVER_NAME = 'spicedb.invalid';

export interface TlsChannel {
  readonly credentials: ChannelCredentials;
  /** Channel options the credentials need (empty for a host name). */
  readonly options: ChannelOptions;
  /**
   * The name the certificate must carry: the host of a host:port endpoint, a DNS name or an IP
   * address. Undefined for a unix socket: grpc-js names it `localhost` and checks that itself.
   */
  readonly identity: string | undefined;
  /** Checks the server's certificate against `identity`, whatever name the handshake sent. */
  readonly checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * TLS to a SpiceDB endpoint, verified against `ca` (or the system roots). For an IP endpoint the
 * handshake names IP_ENDPOINT_SERVER_NAME, and the certificate is still checked against the IP
 * itself (an IP SAN), exactly as a host name would be.
 */
export function tlsChannel(endpoint: string, ca?: Buffer): TlsChannel {
  const identity = parseHostPort(endpoint)?.host;
  if (identity === undefined) {
    return {
      credentials: credentials.createSsl(ca ?? null),
      options: {},
      identity,
      checkServerIdentity,
    };
  }
  const check = (_name: string, cert: PeerCertificate) => checkServerIdentity(identity, cert);
  const byIp = isIP(identity) !== 0;
  return {
    credentials: credentials.createSsl(ca ?? null, null, null, { checkServerIdentity: check }),
    options: byIp ? { 'grpc.ssl_target_name_override': IP_ENDPOINT_SERVER_NAME } : {},
    identity,
    checkServerIdentity: check,
  };
}
