import { DEV_AUDIENCE, ensureDevIssuer } from '../../dev/dev-issuer.js';
import { parseCommandArgs } from '../args.js';

export const summary = 'mint a token from the development issuer of `jwtexchange dev`';

const HELP = `usage: jwtexchange dev-token [--sub ID] [--aud AUD] [--ttl SECONDS] [--dir DIR]

Prints a token signed by the development issuer that \`jwtexchange dev\` (npm start) trusts.
  --sub ID     subject (default cloud-teleport-aleksander.rykalin)
  --aud AUD    audience (default ${DEV_AUDIENCE})
  --ttl S      lifetime in seconds (default 3600)
  --dir DIR    development state directory (default .dev)`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      sub: { type: 'string', default: 'cloud-teleport-aleksander.rykalin' },
      aud: { type: 'string', default: DEV_AUDIENCE },
      ttl: { type: 'string', default: '3600' },
      dir: { type: 'string', default: '.dev' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const ttl = Number(parsed.values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error('--ttl must be a positive integer');
    return 2;
  }
  const issuer = await ensureDevIssuer(parsed.values.dir);
  process.stdout.write(
    (await issuer.mint({ sub: parsed.values.sub, aud: parsed.values.aud, ttlSeconds: ttl })) + '\n',
  );
  return 0;
}
