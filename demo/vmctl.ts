/**
 * vmctl — the platform CLI a person uses, talking to the running demo (`npm run demo -- --keep`):
 *   npm run vmctl -- login --user cloud-teleport-aleksander.rykalin
 *   npm run vmctl -- namespace create NAME --cluster cl0
 *   npm run vmctl -- namespace get ID
 */
import { parseArgs } from 'node:util';
import { requestJson } from './apps/http-util.js';
import { loadToken, readState, saveToken } from './state.js';

const USAGE = `usage: vmctl login --user ID
       vmctl namespace create NAME --cluster CLUSTER
       vmctl namespace get ID

The platform CLI of the demo: talks to the gateway of a running \`npm run demo -- --keep\`
(its addresses are in .dev/demo.json). login gets a user token from the dev auth.service.`;

async function login(user: string): Promise<number> {
  const { authUrl } = readState();
  const res = await requestJson(`${authUrl}/mint`, {
    method: 'POST',
    body: { sub: user, aud: ['token-exchange', 'gateway'] },
  });
  if (res.status !== 200 || typeof res.body.token !== 'string') {
    console.error(`auth.service refused: HTTP ${res.status}`);
    return 1;
  }
  saveToken(res.body.token);
  console.log(`logged in as ${user} (token from auth.service saved in .dev/vmctl-token)`);
  return 0;
}

async function namespace(args: string[], cluster: string | undefined): Promise<number> {
  const { gatewayUrl } = readState();
  const headers = { authorization: `Bearer ${loadToken()}` };
  const [verb, arg] = args;
  const res =
    verb === 'create' && arg && cluster
      ? await requestJson(`${gatewayUrl}/v2/clusters/${cluster}/namespaces`, {
          method: 'POST',
          body: { name: arg },
          headers,
        })
      : verb === 'get' && arg
        ? await requestJson(`${gatewayUrl}/v2/namespaces/${arg}`, { headers })
        : undefined;
  if (!res) {
    console.error(USAGE);
    return 2;
  }
  console.log(`HTTP ${res.status}`);
  console.log(JSON.stringify(res.body, null, 2));
  return res.status < 300 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      user: { type: 'string' },
      cluster: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (command === 'login' && values.user) return login(values.user);
  if (command === 'namespace') return namespace(rest, values.cluster);
  console.error(USAGE);
  return 2;
}

process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`vmctl: ${(err as Error).message}`);
  // An unknown flag or a flag without its value: a usage error.
  if (String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    console.error(USAGE);
    return 2;
  }
  return 1;
});
