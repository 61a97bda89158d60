import path from 'node:path';
import * as z from 'zod';
import { formatPath, readYamlFile } from '../config/load.js';
import { durationMs, filePath, listenAddress, type SchemaContext } from '../config/fields.js';
import { issuerFields, oneKeySource } from '../config/sections/inbound.js';
import { spicedbSection } from '../config/sections/spicedb.js';
import { DEFAULT_SAGA_SCHEMA as SAGA } from '../sagas/saga-schema.js';
import { OBJECT_TYPE, PERMISSION } from '../config/spicedb-names.js';
import { ConfigError } from '../errors.js';
import { DEFAULT_SPIFFE_PREFIX, isServiceName } from '../pki/service-name.js';

/**
 * The token-exchange server's own YAML file (docs/token-exchange.md documents every key). It is
 * separate from the sidecar's config: the two run as different processes with different secrets.
 */
const serviceName = z
  .string()
  .refine(isServiceName, 'must be a service name (lowercase letters, digits, "-")');

const clientIdentity = z
  .strictObject({
    /** Which certificate field names the calling service; compared exactly, never as a pattern. */
    source: z.enum(['uri-san', 'dns-san', 'cn']).default('uri-san'),
    /** For uri-san: the URI is this prefix followed by the service name. */
    uriPrefix: z.string().min(1).default(DEFAULT_SPIFFE_PREFIX),
  })
  .prefault({});

const service = z
  .strictObject({
    /** Audiences (target services) this service may ask tokens for. */
    audiences: z.array(z.string().min(1)).default([]),
    /** Exchanged tokens carry act: { sub: <this service> } (RFC 8693 delegation). */
    delegate: z.boolean().default(false),
  })
  .prefault({});

/** auth.service and other issuers whose tokens may be exchanged (same shape as inbound issuers). */
const subjectIssuer = (ctx: SchemaContext) =>
  z.strictObject(issuerFields(ctx)).refine(...oneKeySource);

const objectType = z.string().regex(OBJECT_TYPE, 'must be a SpiceDB object type');
const relationName = z.string().regex(PERMISSION, 'must be a SpiceDB relation or permission name');

/**
 * Saga-scoped delegated tokens (docs/delegation.md): the SpiceDB holding the saga relations and
 * the names of the saga model. Without this section saga ids are refused as subject tokens.
 */
const sagas = (ctx: SchemaContext) =>
  z.strictObject({
    spicedb: spicedbSection(ctx).unwrap(),
    schema: z
      .strictObject({
        type: objectType.default(SAGA.type),
        initiatorRelation: relationName.default(SAGA.initiatorRelation),
        executorRelation: relationName.default(SAGA.executorRelation),
        executePermission: relationName.default(SAGA.executePermission),
        userType: objectType.default(SAGA.userType),
        serviceType: objectType.default(SAGA.serviceType),
      })
      .prefault({}),
  });

const tokenExchangeConfigSchema = (ctx: SchemaContext) =>
  z
    .strictObject({
      listen: listenAddress.default('127.0.0.1:8443'),
      /** Plain-HTTP listener for /metrics, /healthz and /readyz (off when unset). */
      metricsAddress: listenAddress.optional(),
      /** The iss of every issued token; also where discovery says the server lives. */
      issuer: z.url(),
      tls: z.strictObject({
        certFile: filePath(ctx),
        keyFile: filePath(ctx),
        /** CA bundle that client certificates must chain to. */
        clientCaFile: filePath(ctx),
      }),
      clientIdentity,
      /** Services that may get tokens (merged with ENABLED_TLS_SERVICE_NAME). */
      allowlist: z.array(serviceName).default([]),
      services: z.record(serviceName, service).default({}),
      tokens: z
        .strictObject({
          ttlSeconds: z.number().int().min(30).max(86_400).default(300),
          /** Subject tokens longer than this are refused before parsing. */
          maxSubjectTokenBytes: z.number().int().min(256).max(65_536).default(8_192),
          clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
        })
        .prefault({}),
      keys: z
        .strictObject({
          rotateEverySeconds: z
            .number()
            .int()
            .min(60)
            .max(365 * 86_400)
            .default(86_400),
          /** A new key is published this long before it signs, so verifiers already have it. */
          publishAheadSeconds: z.number().int().min(0).max(86_400).default(300),
          /**
           * Keep the signing keys in this file (mode 0600) so a restart keeps them; without it
           * keys live in memory and tokens issued before a restart stop verifying.
           */
          stateFile: filePath(ctx).optional(),
        })
        .prefault({}),
      subjectIssuers: z.array(subjectIssuer(ctx)).default([]),
      sagas: sagas(ctx).optional(),
      limits: z
        .strictObject({
          maxBodyBytes: z.number().int().min(1_024).max(1_048_576).default(65_536),
          requestTimeoutMs: durationMs(120_000).default(10_000),
        })
        .prefault({}),
      log: z
        .strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
        .prefault({}),
    })
    .superRefine((c, issue) => {
      if (c.keys.publishAheadSeconds >= c.keys.rotateEverySeconds) {
        issue.addIssue({
          code: 'custom',
          path: ['keys', 'publishAheadSeconds'],
          message: 'must be shorter than keys.rotateEverySeconds',
        });
      }
      if (c.subjectIssuers.some((i) => i.issuer === c.issuer)) {
        issue.addIssue({
          code: 'custom',
          path: ['subjectIssuers'],
          message: "must not list this server's own issuer (its tokens are always accepted)",
        });
      }
    });

export type TokenExchangeConfig = z.output<ReturnType<typeof tokenExchangeConfigSchema>>;
export type SubjectIssuerConfig = TokenExchangeConfig['subjectIssuers'][number];
export type ServicePolicy = TokenExchangeConfig['services'][string];

/** Validates an already-parsed document. Relative paths resolve against baseDir. */
export function parseTokenExchangeConfig(
  document: unknown,
  baseDir = process.cwd(),
): TokenExchangeConfig {
  const result = tokenExchangeConfigSchema({ baseDir }).safeParse(document ?? {});
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => ({
        path: formatPath(i.path),
        message:
          i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.message,
      })),
    );
  }
  return result.data;
}

/** Reads, parses and validates the token-exchange YAML file. Throws ConfigError. */
export function loadTokenExchangeConfigFile(file: string): TokenExchangeConfig {
  return parseTokenExchangeConfig(readYamlFile(file), path.dirname(path.resolve(file)));
}
