import { deadlineIn } from '../clock.js';
import { protobuf, v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import type { ZedClient } from '../spicedb/client.js';
import { isServiceName } from '../pki/service-name.js';
import { sagaIdProblem } from './saga-id.js';
import { DEFAULT_SAGA_SCHEMA, type SagaSchema } from './saga-schema.js';

/**
 * What an app (the gateway) writes when it creates a saga, so token-exchange will later issue the
 * saga's delegated tokens (docs/delegation.md):
 *
 *   saga:<id>#initiator@user:<encoded user>[expiration:<expiresAt>]
 *   saga:<id>#executor@service:<executor>[expiration:<expiresAt>]
 *
 * in one WriteRelationships call with a precondition that nothing about saga:<id> exists yet, so a
 * saga id is claimed once and an existing saga can never be given another initiator.
 */
export interface SagaRelations {
  /** The saga's id (used verbatim; see saga-id.ts). */
  readonly sagaId: string;
  /**
   * The initiating user as `type:encodedId`, exactly the value the sidecar hands the app in
   * `x-jwtauth-spicedb-subject` (e.g. `user:cloud-teleport-aleksander=2Erykalin`).
   */
  readonly initiator: string;
  /** The service that runs the saga: its name on token-exchange (mTLS identity), e.g. `gateway`. */
  readonly executor: string;
  /** When the saga stops being usable; SpiceDB drops both relationships then. */
  readonly expiresAt: Date;
}

/** An encoded SpiceDB object id (never the wildcard `*`). */
const OBJECT_ID = /^[A-Za-z0-9/_|+=-]{1,1024}$/;

export class SagaRelationsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SagaRelationsError';
  }
}

function subjectOf(value: string, userType: string): { type: string; id: string } {
  const colon = value.indexOf(':');
  const type = value.slice(0, colon);
  const id = value.slice(colon + 1);
  if (colon < 1 || !OBJECT_ID.test(id)) {
    throw new SagaRelationsError(
      'initiator must be "type:encodedId" as in x-jwtauth-spicedb-subject',
    );
  }
  if (type !== userType) throw new SagaRelationsError(`initiator must be a ${userType}`);
  return { type, id };
}

function relationship(
  schema: SagaSchema,
  sagaId: string,
  relation: string,
  subject: { type: string; id: string },
  expiresAt: Date,
): v1.Relationship {
  return v1.Relationship.create({
    resource: { objectType: schema.type, objectId: sagaId },
    relation,
    subject: { object: { objectType: subject.type, objectId: subject.id }, optionalRelation: '' },
    optionalExpiresAt: protobuf.Timestamp.fromDate(expiresAt),
  });
}

/** The WriteRelationships request creating a saga's relations; throws SagaRelationsError on bad input. */
export function sagaRelationsRequest(
  input: SagaRelations,
  schema: SagaSchema = DEFAULT_SAGA_SCHEMA,
): v1.WriteRelationshipsRequest {
  const problem = sagaIdProblem(input.sagaId);
  if (problem) throw new SagaRelationsError(`saga id ${problem}`);
  if (!isServiceName(input.executor)) {
    throw new SagaRelationsError('executor must be a service name (lowercase letters, digits, -)');
  }
  if (!Number.isFinite(input.expiresAt.getTime())) {
    throw new SagaRelationsError('expiresAt must be a valid date');
  }
  const initiator = subjectOf(input.initiator, schema.userType);
  const executor = { type: schema.serviceType, id: input.executor };
  const create = (relation: string, subject: { type: string; id: string }) =>
    v1.RelationshipUpdate.create({
      operation: v1.RelationshipUpdate_Operation.CREATE,
      relationship: relationship(schema, input.sagaId, relation, subject, input.expiresAt),
    });
  return v1.WriteRelationshipsRequest.create({
    updates: [
      create(schema.initiatorRelation, initiator),
      create(schema.executorRelation, executor),
    ],
    optionalPreconditions: [
      v1.Precondition.create({
        operation: v1.Precondition_Operation.MUST_NOT_MATCH,
        filter: { resourceType: schema.type, optionalResourceId: input.sagaId },
      }),
    ],
  });
}

/**
 * Writes a saga's relations; resolves with the ZedToken of the write. A saga id that already has
 * relations fails with gRPC FAILED_PRECONDITION (the id is taken), bad input with SagaRelationsError.
 */
export async function writeSagaRelations(
  client: ZedClient,
  input: SagaRelations,
  options: { timeoutMs?: number; schema?: SagaSchema } = {},
): Promise<string> {
  const res = await client.promises.writeRelationships(
    sagaRelationsRequest(input, options.schema),
    new Metadata(),
    { deadline: deadlineIn(options.timeoutMs ?? 5_000) },
  );
  return res.writtenAt?.token ?? '';
}

/**
 * Deletes every relation of a saga (when it has finished): token-exchange refuses its delegated
 * tokens from then on. Tokens already issued stay valid until their own exp.
 */
export async function deleteSagaRelations(
  client: ZedClient,
  sagaId: string,
  options: { timeoutMs?: number; schema?: SagaSchema } = {},
): Promise<void> {
  const problem = sagaIdProblem(sagaId);
  if (problem) throw new SagaRelationsError(`saga id ${problem}`);
  const schema = options.schema ?? DEFAULT_SAGA_SCHEMA;
  await client.promises.deleteRelationships(
    v1.DeleteRelationshipsRequest.create({
      relationshipFilter: { resourceType: schema.type, optionalResourceId: sagaId },
    }),
    new Metadata(),
    { deadline: deadlineIn(options.timeoutMs ?? 5_000) },
  );
}
