import { protobuf, v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { deadlineIn, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SagaSchema } from '../sagas/saga-schema.js';
import type { ZedClient } from '../spicedb/client.js';
import { classifyFailure } from '../spicedb/failure.js';
import { decodeObjectId, ObjectIdError } from '../spicedb/object-id.js';
import { OAuthError } from './oauth-error.js';

/** Whom a saga acts for, and until when: what a delegated token may carry. */
export interface SagaDelegation {
  /** The initiator's id, decoded from its SpiceDB form (e.g. `cloud-teleport-aleksander.rykalin`). */
  readonly initiator: string;
  /** The saga's expiry in epoch ms: the earliest expiration of the relationships relied on. */
  readonly expiresAtMs: number;
}

export interface SagaLookupOptions {
  readonly client: ZedClient;
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly schema: SagaSchema;
  readonly clock: Clock;
  readonly logger: Logger;
}

const FULLY_CONSISTENT = v1.Consistency.create({
  requirement: { oneofKind: 'fullyConsistent', fullyConsistent: true },
});

/** A refusal of the saga as subject: RFC 8693 §2.2.2 says invalid_request. */
const refuse = (description: string) => new OAuthError('invalid_request', description);

const expiryOf = (r: v1.Relationship): number | undefined =>
  r.optionalExpiresAt ? protobuf.Timestamp.toDate(r.optionalExpiresAt).getTime() : undefined;

/**
 * Asks SpiceDB whether a service may act for a saga's initiator: the service must hold the saga's
 * execute permission, and a direct executor relationship; the saga must have exactly one
 * initiator (a user); the saga's expiry is the earliest expiration among those relationships and
 * must lie ahead. Reads are fully consistent: the gateway writes the relations moments before the
 * saga first runs, and these calls are rare (one per saga and audience per token lifetime).
 */
export class SagaLookup {
  constructor(private readonly opts: SagaLookupOptions) {}

  async resolve(sagaId: string, service: string): Promise<SagaDelegation> {
    let found: [v1.Relationship[], v1.Relationship[], boolean];
    try {
      found = await Promise.all([
        this.read(sagaId, this.opts.schema.initiatorRelation, undefined, 2),
        this.read(sagaId, this.opts.schema.executorRelation, service, 1),
        this.executes(sagaId, service),
      ]);
    } catch (err) {
      const failure = classifyFailure(err, this.opts.endpoint, this.opts.timeoutMs);
      this.opts.logger.warn('saga lookup in SpiceDB failed', {
        saga: sagaId,
        error: failure.message,
      });
      throw new OAuthError('server_error', `saga lookup in SpiceDB failed (${failure.kind})`, {
        status: 503,
      });
    }
    const [initiators, executors, allowed] = found;
    return this.judge(sagaId, service, initiators, executors[0], allowed);
  }

  private judge(
    sagaId: string,
    service: string,
    initiators: v1.Relationship[],
    executor: v1.Relationship | undefined,
    allowed: boolean,
  ): SagaDelegation {
    const { schema, clock } = this.opts;
    const saga = `${schema.type}:${sagaId}`;
    if (!allowed || !executor) {
      throw refuse(
        `service ${JSON.stringify(service)} does not execute ${saga} (unknown saga, relations not written, or expired)`,
      );
    }
    if (initiators.length !== 1) {
      throw refuse(`${saga} must have exactly one ${schema.initiatorRelation}`);
    }
    const initiator = initiators[0]!;
    const subject = initiator.subject;
    if (subject?.object?.objectType !== schema.userType || subject.optionalRelation !== '') {
      throw refuse(`the ${schema.initiatorRelation} of ${saga} is not a ${schema.userType}`);
    }
    const expiries = [expiryOf(initiator), expiryOf(executor)].filter(
      (e): e is number => e !== undefined,
    );
    if (expiries.length === 0) {
      throw refuse(`${saga} has no expiry: write its relations with an expiration`);
    }
    const expiresAtMs = Math.min(...expiries);
    // A token must live at least a second (exp is in whole seconds).
    if (expiresAtMs <= clock.now() + 1_000) throw refuse(`${saga} has expired`);
    return { initiator: decodeInitiator(subject.object.objectId, saga), expiresAtMs };
  }

  private async read(
    sagaId: string,
    relation: string,
    service: string | undefined,
    limit: number,
  ): Promise<v1.Relationship[]> {
    const { schema } = this.opts;
    const found = await this.opts.client.promises.readRelationships(
      v1.ReadRelationshipsRequest.create({
        consistency: FULLY_CONSISTENT,
        relationshipFilter: {
          resourceType: schema.type,
          optionalResourceId: sagaId,
          optionalRelation: relation,
          ...(service !== undefined
            ? {
                optionalSubjectFilter: {
                  subjectType: schema.serviceType,
                  optionalSubjectId: service,
                },
              }
            : {}),
        },
        optionalLimit: limit,
      }),
      new Metadata(),
      { deadline: deadlineIn(this.opts.timeoutMs) },
    );
    return found.flatMap((r) => (r.relationship ? [r.relationship] : []));
  }

  private async executes(sagaId: string, service: string): Promise<boolean> {
    const { schema } = this.opts;
    const res = await this.opts.client.promises.checkPermission(
      v1.CheckPermissionRequest.create({
        consistency: FULLY_CONSISTENT,
        resource: { objectType: schema.type, objectId: sagaId },
        permission: schema.executePermission,
        subject: {
          object: { objectType: schema.serviceType, objectId: service },
          optionalRelation: '',
        },
      }),
      new Metadata(),
      { deadline: deadlineIn(this.opts.timeoutMs) },
    );
    return res.permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
  }
}

/** Initiator ids are stored encoded (src/spicedb/object-id.ts); the token carries the raw id. */
function decodeInitiator(encoded: string, saga: string): string {
  try {
    return decodeObjectId(encoded);
  } catch (err) {
    if (err instanceof ObjectIdError) {
      throw refuse(`the initiator id of ${saga} is not a canonical encoded id`);
    }
    throw err;
  }
}
