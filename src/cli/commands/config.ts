import path from 'node:path';
import { parseConfig } from '../../config/load.js';
import {
  checkFiles,
  sidecarFiles,
  type FileCheck,
  type ReferencedFile,
} from '../../config/referenced-files.js';
import { summarizeConfig } from '../../config/summary.js';
import { ConfigError } from '../../errors.js';
import { parseTokenExchangeConfig } from '../../token-exchange/config.js';
import {
  stateFileProblem,
  tokenExchangeFiles,
  summarizeTokenExchangeConfig,
} from '../../token-exchange/config-summary.js';
import { parseCommandArgs } from '../args.js';
import { readConfigInput, type ConfigInput } from '../config-input.js';

export const summary =
  'config check FILE: validate a configuration (and its files) without starting';

const HELP = `usage: jwtexchange config check [--sts] [--root DIR] [--skip-files] FILE

Validates a configuration the way \`jwtexchange serve\` reads it, without starting anything:
every key, then every file it names — each must exist and parse (PEM certificates and keys, a
key that matches its certificate, JWKS files, the SpiceDB preshared key file). Prints what each
section holds. Errors name the setting (e.g. outbound.tokenExchange.caFile).

  FILE           the YAML file, or - for standard input. Kubernetes objects are accepted too:
                 the ConfigMap holding config.yaml is checked, e.g.
                   helm template gw helm/jwtexchange -f values.yaml | jwtexchange config check --skip-files -
  --sts          a token-exchange (\`jwtexchange sts\`) configuration; recognised by its keys
                 without the flag
  --root DIR     read the files under DIR (paths as the pod sees them, e.g. DIR/etc/jwtexchange/tls)
  --skip-files   check the keys only and list the files serve will need

Exit status: 0 valid, 1 invalid, 2 usage error.`;

/** Keys only a token-exchange config has; a sidecar config has none of them. */
const STS_ONLY = [
  'listen',
  'metricsAddress',
  'issuer',
  'tls',
  'clientIdentity',
  'allowlist',
  'services',
  'tokens',
  'keys',
  'subjectIssuers',
  'sagas',
  'limits',
];
const SIDECAR_ONLY = ['server', 'inbound', 'outbound', 'spicedb', 'authorization'];

function looksLikeSts(document: unknown): { sts: boolean; stsKeys: string[] } {
  const keys = document && typeof document === 'object' ? Object.keys(document) : [];
  const stsKeys = keys.filter((k) => STS_ONLY.includes(k));
  return { sts: stsKeys.length > 0 && !keys.some((k) => SIDECAR_ONLY.includes(k)), stsKeys };
}

interface Checked {
  readonly kind: string;
  readonly lines: string[];
  readonly files: ReferencedFile[];
  readonly extraProblems: (locate: (f: string) => string) => string[];
  readonly notes: string[];
}

function checkDocument(input: ConfigInput, sts: boolean): Checked {
  if (sts) {
    const config = parseTokenExchangeConfig(input.document, input.baseDir);
    return {
      kind: 'token-exchange configuration for `jwtexchange sts`',
      lines: summarizeTokenExchangeConfig(config),
      files: tokenExchangeFiles(config),
      extraProblems: (locate) => stateFileProblem(config, locate),
      notes: [],
    };
  }
  const config = parseConfig(input.document, input.baseDir);
  const env = config.spicedb?.presharedKeyEnv;
  return {
    kind: 'sidecar configuration for `jwtexchange serve`',
    lines: summarizeConfig(config),
    files: sidecarFiles(config),
    extraProblems: () => [],
    notes:
      env && !process.env[env]?.trim()
        ? [`$${env} (spicedb.presharedKeyEnv) is not set here; serve needs it in its environment`]
        : [],
  };
}

function fileLines(results: readonly FileCheck[], skipped: readonly ReferencedFile[]): string[] {
  if (skipped.length > 0) {
    return [
      '  files (not read: --skip-files)',
      ...skipped.map((f) => `    ${f.setting}  ${f.file}  (${f.kind})`),
    ];
  }
  if (results.length === 0) return ['  files          none referenced'];
  return ['  files', ...results.map((r) => `    ${r.setting}  ${r.file}  ${r.detail ?? ''}`)];
}

interface CheckOptions {
  readonly sts: boolean;
  readonly root: string | undefined;
  readonly skipFiles: boolean;
}

/** Validates the input and reads its files; the lines to print, or a ConfigError. */
function checkInput(input: ConfigInput, o: CheckOptions, recognised: boolean): string[] {
  const checked = checkDocument(input, o.sts || recognised);
  const root = o.root ? path.resolve(o.root) : undefined;
  const locate = (f: string) => (root ? path.join(root, f) : f);
  const results = o.skipFiles ? [] : checkFiles(checked.files, locate);
  const problems = results
    .filter((r) => r.problem)
    .map((r) => ({ path: r.setting, message: r.problem! }));
  if (!o.skipFiles) {
    for (const message of checked.extraProblems(locate))
      problems.push({ path: 'keys.stateFile', message });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const how = !o.sts && recognised ? ', recognised by its keys' : '';
  return [
    `${input.name}: ok (${checked.kind}${how})`,
    ...checked.lines,
    ...fileLines(results, o.skipFiles ? checked.files : []),
    ...checked.notes.map((note) => `note: ${note}`),
  ];
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      sts: { type: 'boolean', default: false },
      root: { type: 'string' },
      'skip-files': { type: 'boolean', default: false },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [sub, file, ...extra] = parsed.positionals;
  if (sub !== 'check' || !file || extra.length > 0) {
    console.error(HELP);
    return 2;
  }
  const v = parsed.values;
  const options = { sts: v.sts, root: v.root, skipFiles: v['skip-files'] };
  let name = file;
  let stsKeys: string[] = [];
  try {
    const input = readConfigInput(file);
    name = input.name;
    const detected = looksLikeSts(input.document);
    stsKeys = v.sts || detected.sts ? [] : detected.stsKeys;
    console.log(checkInput(input, options, detected.sts).join('\n'));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${name}: ${err.message}`);
    if (stsKeys.length > 0) {
      console.error(
        `hint: ${stsKeys.join(', ')} are token-exchange keys; a \`jwtexchange sts\` config is checked with --sts`,
      );
    }
    return 1;
  }
}
