import { protobuf, v1 } from '@authzed/authzed-node';
import { describe, expect, it } from 'vitest';
import { sagaRelationsRequest } from '../../../src/sagas/saga-relations.js';

const EXPIRES = new Date(Date.UTC(2026, 0, 1, 12));
const input = {
  sagaId: 'saga-1',
  initiator: 'user:cloud-teleport-aleksander=2Erykalin',
  executor: 'gateway',
  expiresAt: EXPIRES,
};

describe('sagaRelationsRequest', () => {
  it('creates initiator and executor, both expiring, only if the saga id is new', () => {
    const req = sagaRelationsRequest(input);
    const lines = req.updates.map((u) => {
      const r = u.relationship!;
      const at = protobuf.Timestamp.toDate(r.optionalExpiresAt!).toISOString();
      return `${u.operation} ${r.resource!.objectType}:${r.resource!.objectId}#${r.relation}@${r.subject!.object!.objectType}:${r.subject!.object!.objectId} until ${at}`;
    });
    const create = v1.RelationshipUpdate_Operation.CREATE;
    expect(lines).toEqual([
      `${create} saga:saga-1#initiator@user:cloud-teleport-aleksander=2Erykalin until 2026-01-01T12:00:00.000Z`,
      `${create} saga:saga-1#executor@service:gateway until 2026-01-01T12:00:00.000Z`,
    ]);
    expect(req.optionalPreconditions).toEqual([
      expect.objectContaining({
        operation: v1.Precondition_Operation.MUST_NOT_MATCH,
        filter: expect.objectContaining({ resourceType: 'saga', optionalResourceId: 'saga-1' }),
      }),
    ]);
  });

  it('uses the configured names of the saga model', () => {
    const req = sagaRelationsRequest(input, {
      type: 'jobs/saga',
      initiatorRelation: 'started_by',
      executorRelation: 'run_by',
      executePermission: 'run',
      userType: 'user',
      serviceType: 'workload',
    });
    expect(req.updates.map((u) => u.relationship!.relation)).toEqual(['started_by', 'run_by']);
    expect(req.updates[1]!.relationship!.subject!.object!.objectType).toBe('workload');
  });

  it.each([
    [{ sagaId: 'a.b' }, /saga id may contain only/],
    [{ sagaId: '' }, /saga id is missing/],
    [{ initiator: 'cloud-teleport-aleksander.rykalin' }, /initiator must be "type:encodedId"/],
    [{ initiator: 'user:cloud-teleport-aleksander.rykalin' }, /initiator must be "type:encodedId"/],
    [{ initiator: 'user:*' }, /initiator must be "type:encodedId"/],
    [{ initiator: 'service:gateway' }, /initiator must be a user/],
    [{ executor: 'Gateway' }, /executor must be a service name/],
    [{ expiresAt: new Date(NaN) }, /expiresAt must be a valid date/],
  ])('refuses bad input %j', (bad, message) => {
    expect(() => sagaRelationsRequest({ ...input, ...bad })).toThrow(message);
  });
});
