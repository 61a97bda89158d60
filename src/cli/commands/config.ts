import { loadConfigFile } from '../../config/load.js';
import { ConfigError } from '../../errors.js';

export const summary = 'config check FILE: validate a configuration without starting';

export async function run(args: string[]): Promise<number> {
  const [sub, file, ...extra] = args;
  if (sub !== 'check' || !file || extra.length > 0) {
    console.error('usage: jwtexchange config check FILE');
    return 2;
  }
  try {
    const config = loadConfigFile(file);
    console.log(
      `${file}: ok (${config.inbound.issuers.length} issuer(s), inbound mode ${config.inbound.mode})`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${file}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
