import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseYamlText } from '../config/load.js';
import { ConfigError } from '../errors.js';

/**
 * What `jwtexchange config check` is given: a YAML file, `-` for standard input, or Kubernetes
 * objects as `helm template` renders them — then the ConfigMap whose data holds `config.yaml`
 * (the chart's jwtexchange config) is the document, as the pod reads it.
 */
export interface ConfigInput {
  readonly name: string;
  readonly document: unknown;
  /** Relative file paths resolve against this directory (the config file's, in the pod too). */
  readonly baseDir: string;
  /** Set when the document came out of a ConfigMap. */
  readonly configMap?: string;
}

/** Where the chart mounts config.yaml; relative paths in it resolve against this directory. */
const POD_CONFIG_DIR = '/etc/jwtexchange';

type K8sObject = { kind?: unknown; metadata?: { name?: unknown }; data?: Record<string, unknown> };

function fromConfigMaps(objects: K8sObject[], name: string): ConfigInput | undefined {
  const maps = objects.filter(
    (o) => o?.kind === 'ConfigMap' && typeof o.data?.['config.yaml'] === 'string',
  );
  if (maps.length === 0) return undefined;
  if (maps.length > 1) {
    const names = maps.map((m) => String(m.metadata?.name)).join(', ');
    throw new ConfigError([
      {
        path: '',
        message: `${name} holds ${maps.length} ConfigMaps with a config.yaml (${names}); render one with helm template --show-only templates/configmap.yaml`,
      },
    ]);
  }
  const map = maps[0]!;
  const configMap = String(map.metadata?.name);
  return {
    name: `${name} (ConfigMap ${configMap}, config.yaml)`,
    document: parseYamlText(map.data!['config.yaml'] as string, `ConfigMap ${configMap}`),
    baseDir: POD_CONFIG_DIR,
    configMap,
  };
}

export function readConfigInput(file: string): ConfigInput {
  const name = file === '-' ? '(stdin)' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([{ path: '', message: `cannot read ${name}: ${why}` }]);
  }
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs) || docs.length <= 1) {
    const document = parseYamlText(text, name);
    const baseDir = file === '-' ? process.cwd() : path.dirname(path.resolve(file));
    return fromConfigMaps([document as K8sObject], name) ?? { name, document, baseDir };
  }
  const objects = docs.map((d) => {
    if (d.errors.length > 0) {
      throw new ConfigError([
        { path: '', message: `${name} is not valid YAML: ${d.errors[0]!.message}` },
      ]);
    }
    return d.toJS({ maxAliasCount: 100 }) as K8sObject;
  });
  const found = fromConfigMaps(objects, name);
  if (!found) {
    throw new ConfigError([
      {
        path: '',
        message: `${name} holds ${docs.length} YAML documents and none is a ConfigMap with config.yaml`,
      },
    ]);
  }
  return found;
}
