// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';

/** Import paths that reach into a folder, relative to any file below src/. */
const UP = {
  domain: ['jwt', 'spicedb', 'tokens', 'token-exchange', 'sagas', 'envoy', 'net', 'grpc', 'h2'].map(
    (d) => `**/${d}/**`,
  ),
  check: ['**/check/**'],
  server: ['**/server/**'],
  apps: ['**/cli/**', '**/dev/**'],
};

/** A folder's files may not import the given paths. */
function layer(files, group, message) {
  return [
    { files, rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] } },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.dev/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Request data is hostile: no regular expression over it may backtrack or move super-linearly
    // (docs/security.md). The whole source tree is held to it, not only the request path.
    files: ['src/**/*.ts'],
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': ['error', { ignoreSticky: false, ignorePartial: false }],
      'regexp/no-potentially-useless-backreference': 'error',
      'regexp/no-useless-backreference': 'error',
      'regexp/no-empty-alternative': 'error',
      'regexp/no-misleading-unicode-character': 'error',
      'regexp/no-control-character': 'error',
    },
  },
  // Which folder may import which (docs/development.md#layers): the entry points (cli/, dev/)
  // use the composition roots (server/), which use the data path (check/), which uses the
  // domain folders, which use config/ and the shared modules at the top of src/. Never upward.
  ...layer(['src/*.ts'], ['./*/**'], 'modules at the top of src/ are shared by every folder'),
  ...layer(
    ['src/metrics/**/*.ts'],
    [...UP.domain, '**/config/**', '**/pki/**', ...UP.check, ...UP.server, ...UP.apps],
    'metrics/ is shared by every folder; it imports only src/*.ts',
  ),
  ...layer(
    ['src/config/**/*.ts'],
    [...UP.domain.filter((d) => d !== '**/net/**'), ...UP.check, ...UP.server, ...UP.apps],
    'config/ is read by every folder; it imports only src/*.ts, net/ (host:port) and pki/ (certificate names)',
  ),
  ...layer(
    ['src/{jwt,spicedb,tokens,token-exchange,sagas,pki,envoy,net,grpc,h2}/**/*.ts'],
    [...UP.check, ...UP.server, ...UP.apps],
    'domain folders never import the data path, the composition roots or the entry points',
  ),
  ...layer(['src/check/**/*.ts'], [...UP.server, ...UP.apps], 'check/ is built by server/'),
  ...layer(['src/server/**/*.ts'], UP.apps, 'server/ is started by cli/ and dev/'),
  {
    files: ['src/cli/**', 'scripts/**', 'bench/**', 'test/**', 'src/dev/**', 'demo/**'],
    rules: { 'no-console': 'off' },
  },
);
