import { DEV_AUTH_AUDIENCE, startDevAuth } from '../../dev/dev-auth.js';
import { createLogger } from '../../log.js';
import { httpRequest } from '../../net/http-client.js';
import { asListenError } from '../../net/address.js';
import { ADDRESSES_FILE_HELP, writeAddressesFile } from '../addresses-file.js';
import { parseCommandArgs } from '../args.js';
import { runUntilSignal } from '../signals.js';

export const summary = "a development auth.service: serve user tokens' JWKS, or mint a user token";

const HELP = `usage: jwtexchange dev-auth serve [--port PORT] [--addresses-file FILE]
       jwtexchange dev-auth mint --url URL --sub ID [--aud AUD] [--ttl SECONDS]

serve   runs a user-token issuer on 127.0.0.1 (JWKS at /.well-known/jwks.json). Its keys live
        in memory; trust it in token-exchange under subjectIssuers. Development only.
mint    asks a running dev-auth for a user token and prints it (e.g. for
        \`jwtexchange token --subject-token\`).
  --port PORT   listen port for serve (default 8081; 0 picks a free one)
${ADDRESSES_FILE_HELP}
  --url URL     the dev-auth URL printed by serve
  --sub ID      user id (default cloud-teleport-aleksander.rykalin)
  --aud AUD     audience (default ${DEV_AUTH_AUDIENCE})
  --ttl S       lifetime in seconds (default 3600)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      port: { type: 'string', default: '8081' },
      url: { type: 'string' },
      sub: { type: 'string', default: 'cloud-teleport-aleksander.rykalin' },
      aud: { type: 'string', default: DEV_AUTH_AUDIENCE },
      ttl: { type: 'string', default: '3600' },
      'addresses-file': { type: 'string' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [sub] = parsed.positionals;
  const v = parsed.values;
  if (sub === 'serve') return serve(Number(v.port), v['addresses-file']);
  if (sub === 'mint' && v.url) return mint(v.url, v.sub, v.aud, Number(v.ttl));
  console.error(HELP);
  return 2;
}

async function serve(port: number, addressesFile: string | undefined): Promise<number> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error('--port must be a port number');
    return 2;
  }
  const auth = await startDevAuth({ port }).catch((err: unknown) => {
    throw asListenError(err, '--port', `127.0.0.1:${port}`);
  });
  const logger = createLogger('info').child({ component: 'dev-auth' });
  console.log(`dev auth.service (development only)
  issuer   ${auth.issuer}
  jwks     ${auth.jwksUrl}
  mint     npx jwtexchange dev-auth mint --url ${auth.url} --sub cloud-teleport-aleksander.rykalin`);
  const removeAddresses = writeAddressesFile(addressesFile, { url: auth.url });
  try {
    return await runUntilSignal({ shutdown: () => auth.close() }, logger);
  } finally {
    removeAddresses();
  }
}

async function mint(url: string, sub: string, aud: string, ttlSeconds: number): Promise<number> {
  const res = await httpRequest(`${url.replace(/\/$/, '')}/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, aud, ttlSeconds }),
    timeoutMs: 5_000,
  });
  const body = JSON.parse(res.body) as { token?: string; error_description?: string };
  if (res.status !== 200 || !body.token) {
    console.error(`dev-auth refused: ${body.error_description ?? `HTTP ${res.status}`}`);
    return 1;
  }
  process.stdout.write(body.token + '\n');
  return 0;
}
