import path from 'node:path';
import { createDevPki } from '../../pki/dev-pki.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'pki init: create a development CA and mTLS certificates for token-exchange';

const HELP = `usage: jwtexchange pki init --out DIR --service NAME [--service NAME ...] [options]

Creates (or completes) a development PKI in DIR: ca.pem/ca.key, server.pem/server.key for
token-exchange, and clients/<service>.pem/.key for each service. A client certificate names its
service in the CN, a DNS SAN and the URI SAN spiffe://jwtexchange.dev/<service>. An existing CA
in DIR is kept, so certificates added later share the trust root. Development only.
  --out DIR          output directory
  --service NAME     a service that gets a client certificate (repeatable)
  --host H           a name or address for the server certificate (repeatable;
                     default 127.0.0.1, ::1, localhost)
  --uri-prefix P     URI SAN prefix (default spiffe://jwtexchange.dev/)
  --force            reissue certificates that already exist (the CA is kept)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      out: { type: 'string' },
      service: { type: 'string', multiple: true, default: [] },
      host: { type: 'string', multiple: true },
      'uri-prefix': { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [sub, ...extra] = parsed.positionals;
  const v = parsed.values;
  if (sub !== 'init' || extra.length > 0 || !v.out) {
    console.error(HELP);
    return 2;
  }
  const pki = await createDevPki({
    outDir: v.out,
    services: v.service,
    serverHosts: v.host,
    uriPrefix: v['uri-prefix'],
    force: v.force,
  });
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';
  const lines = [
    `development PKI in ${rel(pki.dir)}`,
    `  CA                 ${rel(pki.caFile)}  (trust this for the server and for clients)`,
    `  token-exchange     ${rel(pki.serverCertFile)}  ${rel(pki.serverKeyFile)}`,
    ...Object.entries(pki.clients).map(
      ([s, f]) => `  ${s.padEnd(18)} ${rel(f.certFile)}  ${rel(f.keyFile)}`,
    ),
  ];
  console.log(lines.join('\n'));
  return 0;
}
