import { protobuf, v1 } from '@authzed/authzed-node';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { DEFAULT_SAGA_SCHEMA } from '../../../src/sagas/saga-schema.js';
import type { ZedClient } from '../../../src/spicedb/client.js';
import { encodeObjectId } from '../../../src/spicedb/object-id.js';
import { parseRelationship } from '../../../src/spicedb/relationship-text.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';
import { SagaLookup } from '../../../src/token-exchange/saga-lookup.js';
import { ManualClock } from '../../helpers/manual-time.js';

const clock = new ManualClock();
const NOW = clock.now();
const HOUR = 3_600_000;

function rel(text: string, expiresAtMs?: number): v1.Relationship {
  const r = parseRelationship(text);
  if (expiresAtMs !== undefined)
    r.optionalExpiresAt = protobuf.Timestamp.fromDate(new Date(expiresAtMs));
  return r;
}

interface World {
  initiators?: v1.Relationship[];
  executors?: v1.Relationship[];
  executes?: boolean;
  fail?: Error;
}

function lookup(world: World) {
  const requests: v1.ReadRelationshipsRequest[] = [];
  const client = {
    promises: {
      readRelationships: async (req: v1.ReadRelationshipsRequest) => {
        if (world.fail) throw world.fail;
        requests.push(req);
        const rels =
          req.relationshipFilter!.optionalRelation === 'initiator'
            ? (world.initiators ?? [])
            : (world.executors ?? []);
        return rels.map((relationship) => v1.ReadRelationshipsResponse.create({ relationship }));
      },
      checkPermission: async () =>
        v1.CheckPermissionResponse.create({
          permissionship: world.executes
            ? v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION
            : v1.CheckPermissionResponse_Permissionship.NO_PERMISSION,
        }),
    },
  } as unknown as ZedClient;
  const saga = new SagaLookup({
    client,
    endpoint: 'spicedb:50051',
    timeoutMs: 1_000,
    schema: DEFAULT_SAGA_SCHEMA,
    clock,
    logger: silentLogger,
  });
  return { saga, requests };
}

const ALICE = encodeObjectId('alice@example.com');
const GOOD: World = {
  initiators: [rel(`saga:s1#initiator@user:${ALICE}`, NOW + 2 * HOUR)],
  executors: [rel('saga:s1#executor@service:vm', NOW + HOUR)],
  executes: true,
};

describe('SagaLookup.resolve', () => {
  it('gives the decoded initiator and the earliest expiry', async () => {
    const { saga, requests } = lookup(GOOD);
    await expect(saga.resolve('s1', 'vm')).resolves.toEqual({
      initiator: 'alice@example.com',
      expiresAtMs: NOW + HOUR,
    });
    const executorRead = requests.find(
      (r) => r.relationshipFilter!.optionalRelation === 'executor',
    );
    expect(executorRead!.relationshipFilter!.optionalSubjectFilter).toMatchObject({
      subjectType: 'service',
      optionalSubjectId: 'vm',
    });
    expect(executorRead!.consistency!.requirement.oneofKind).toBe('fullyConsistent');
  });

  it.each<[string, World, string]>([
    [
      'no execute permission',
      { ...GOOD, executes: false },
      'service "vm" does not execute saga:s1',
    ],
    [
      'no executor relationship',
      { ...GOOD, executors: [] },
      'service "vm" does not execute saga:s1',
    ],
    ['no initiator', { ...GOOD, initiators: [] }, 'saga:s1 must have exactly one initiator'],
    [
      'two initiators',
      {
        ...GOOD,
        initiators: [
          rel('saga:s1#initiator@user:a', NOW + HOUR),
          rel('saga:s1#initiator@user:b', NOW + HOUR),
        ],
      },
      'saga:s1 must have exactly one initiator',
    ],
    [
      'a service as initiator',
      { ...GOOD, initiators: [rel('saga:s1#initiator@service:vm', NOW + HOUR)] },
      'the initiator of saga:s1 is not a user',
    ],
    [
      'a userset as initiator',
      { ...GOOD, initiators: [rel('saga:s1#initiator@user:a#member', NOW + HOUR)] },
      'the initiator of saga:s1 is not a user',
    ],
    [
      'no expiry at all',
      {
        ...GOOD,
        initiators: [rel('saga:s1#initiator@user:a')],
        executors: [rel('saga:s1#executor@service:vm')],
      },
      'saga:s1 has no expiry: write its relations with an expiration',
    ],
    [
      'an expiry within a second',
      { ...GOOD, executors: [rel('saga:s1#executor@service:vm', NOW + 1_000)] },
      'saga:s1 has expired',
    ],
    [
      'an initiator id that is not canonically encoded',
      { ...GOOD, initiators: [rel('saga:s1#initiator@user:a%2', NOW + HOUR)] },
      'the initiator id of saga:s1 is not a canonical encoded id',
    ],
  ])('refuses %s as invalid_request', async (_name, world, description) => {
    const err = await lookup(world)
      .saga.resolve('s1', 'vm')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).code).toBe('invalid_request');
    expect((err as OAuthError).description).toMatch(
      new RegExp(`^${description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  it('answers 503 server_error, with the kind only, when SpiceDB fails', async () => {
    const fail = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:50051'), { code: 14 });
    const err = await lookup({ ...GOOD, fail })
      .saga.resolve('s1', 'vm')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'server_error', status: 503 });
    expect((err as OAuthError).description).toBe('saga lookup in SpiceDB failed (unreachable)');
  });
});
