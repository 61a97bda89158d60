import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/tools.js';

/**
 * `serve` never loads protobufjs: the ext_authz server and gRPC health run on hand-written codecs
 * (src/envoy/server-codec.ts, src/server/health-codec.ts), and loading protobufjs and
 * proto-loader is most of what start would otherwise spend on them. A fresh process imports the
 * sidecar's composition root and listeners and lists the CommonJS modules loaded; then it asks
 * for the generic client codec, which must load proto-loader (so the listing can see it).
 */
const SCRIPT = `
import Module from 'node:module';
const loaded = () => Object.keys(Module._cache).filter((f) => f.includes('node_modules'));
await import('./src/server/app.ts');
await import('./src/server/listeners.ts');
const serve = loaded();
const { authorizationService } = await import('./src/envoy/proto.ts');
authorizationService();
console.log(JSON.stringify({ serve, client: loaded() }));
`;

const PROTOBUF = /node_modules\/(protobufjs|@grpc\/proto-loader|grpc-health-check)\//;

it('importing the serve graph loads no protobufjs, proto-loader or grpc-health-check', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', SCRIPT],
    { cwd: ROOT },
  );
  const { serve, client } = JSON.parse(stdout) as { serve: string[]; client: string[] };
  expect(serve.some((f) => f.includes('node_modules/@grpc/grpc-js/'))).toBe(true);
  expect(serve.filter((f) => PROTOBUF.test(f))).toEqual([]);
  expect(client.some((f) => f.includes('node_modules/@grpc/proto-loader/'))).toBe(true);
}, 60_000);
