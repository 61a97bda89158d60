import { createRequire } from 'node:module';
import path from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

/**
 * Envoy's ext_authz protos, loaded at run time from the copies that ship in @grpc/grpc-js-xds
 * (deps/envoy-api, googleapis, protoc-gen-validate, xds). Nothing is copied into this repo;
 * proto/envoy/README.md says which files are used.
 */
const require = createRequire(import.meta.url);

export function protoIncludeDirs(): string[] {
  const root = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return ['envoy-api', 'googleapis', 'protoc-gen-validate', 'xds'].map((d) =>
    path.join(root, 'deps', d),
  );
}

export const EXT_AUTHZ_PROTO = 'envoy/service/auth/v3/external_auth.proto';
export const CHECK_METHOD_PATH = '/envoy.service.auth.v3.Authorization/Check';

/**
 * Plain-object mapping: keepCase so field names match the proto (and Envoy's docs), enums as
 * strings, longs as numbers; `defaults: false` keeps decode cheap on the hot path.
 */
export const LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
};

let cached: ServiceDefinition | undefined;

/** The grpc-js service definition of envoy.service.auth.v3.Authorization (loaded once). */
export function authorizationService(): ServiceDefinition {
  if (cached) return cached;
  // Required here, not imported: proto-loader brings protobufjs (~100 ms to load), which the
  // server's side never needs (server-codec.ts); only clients and the bench's baseline call this.
  const { loadSync } = require('@grpc/proto-loader') as typeof ProtoLoader;
  const definition = loadSync(EXT_AUTHZ_PROTO, {
    ...LOADER_OPTIONS,
    includeDirs: protoIncludeDirs(),
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: { service: ServiceDefinition } } } } };
  };
  cached = pkg.envoy.service.auth.v3.Authorization.service;
  return cached;
}
