import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueLeaf, loadCa, type CertificateAuthority } from './certificates.js';
import { DEFAULT_SPIFFE_PREFIX, isServiceName } from './service-name.js';

/**
 * A development PKI on disk: one CA, a server certificate for token-exchange, and one client
 * certificate per service that names the service in its CN, DNS SAN and SPIFFE URI SAN.
 * Re-running it in the same directory keeps the CA and adds what is missing, so every
 * certificate stays under one trust root. A second directory gives a second, foreign CA.
 */
export interface DevPkiOptions {
  readonly outDir: string;
  readonly services: readonly string[];
  /** Names and addresses the server certificate is valid for (default 127.0.0.1, ::1, localhost). */
  readonly serverHosts?: readonly string[];
  /** CA common name (default "jwtexchange dev CA"). */
  readonly caName?: string;
  /** URI SAN prefix of client certificates (default spiffe://jwtexchange.dev/). */
  readonly uriPrefix?: string;
  /** Replace existing leaf certificates instead of keeping them. */
  readonly force?: boolean;
}

export interface DevPki {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clients: Record<string, { certFile: string; keyFile: string }>;
}

const DEFAULT_SERVER_HOSTS = ['127.0.0.1', '::1', 'localhost'];

function devPkiPaths(outDir: string, services: readonly string[]): DevPki {
  const dir = path.resolve(outDir);
  const clients: DevPki['clients'] = {};
  for (const s of services) {
    clients[s] = {
      certFile: path.join(dir, 'clients', `${s}.pem`),
      keyFile: path.join(dir, 'clients', `${s}.key`),
    };
  }
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    caKeyFile: path.join(dir, 'ca.key'),
    serverCertFile: path.join(dir, 'server.pem'),
    serverKeyFile: path.join(dir, 'server.key'),
    clients,
  };
}

/** Private keys are readable by the owner only, also when the file already existed. */
function writeKey(file: string, pem: string): void {
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function ensureCa(paths: DevPki, name: string): Promise<CertificateAuthority> {
  if (existsSync(paths.caFile) && existsSync(paths.caKeyFile)) {
    return loadCa(readFileSync(paths.caFile, 'utf8'), readFileSync(paths.caKeyFile, 'utf8'));
  }
  const ca = await createCa(name);
  writeFileSync(paths.caFile, ca.cert);
  writeKey(paths.caKeyFile, ca.key);
  return ca;
}

function splitHosts(hosts: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const ip = /^[0-9.]+$|:/;
  return {
    dnsNames: hosts.filter((h) => !ip.test(h)),
    ipAddresses: hosts.filter((h) => ip.test(h)),
  };
}

export async function createDevPki(options: DevPkiOptions): Promise<DevPki> {
  const bad = options.services.filter((s) => !isServiceName(s));
  if (bad.length > 0) {
    throw new Error(
      `invalid service name(s) ${bad.map((s) => JSON.stringify(s)).join(', ')}: use lowercase letters, digits and '-' (a DNS label)`,
    );
  }
  const paths = devPkiPaths(options.outDir, options.services);
  mkdirSync(path.join(paths.dir, 'clients'), { recursive: true, mode: 0o700 });
  const ca = await ensureCa(paths, options.caName ?? 'jwtexchange dev CA');
  const fresh = (file: string) => options.force === true || !existsSync(file);

  if (fresh(paths.serverCertFile) || fresh(paths.serverKeyFile)) {
    const server = await issueLeaf(ca, {
      commonName: 'token-exchange',
      usage: 'server',
      ...splitHosts(options.serverHosts ?? DEFAULT_SERVER_HOSTS),
    });
    writeFileSync(paths.serverCertFile, server.cert);
    writeKey(paths.serverKeyFile, server.key);
  }
  const prefix = options.uriPrefix ?? DEFAULT_SPIFFE_PREFIX;
  for (const service of options.services) {
    const files = paths.clients[service]!;
    if (!fresh(files.certFile) && !fresh(files.keyFile)) continue;
    const client = await issueLeaf(ca, {
      commonName: service,
      usage: 'client',
      dnsNames: [service],
      uris: [`${prefix}${service}`],
    });
    writeFileSync(files.certFile, client.cert);
    writeKey(files.keyFile, client.key);
  }
  return paths;
}
