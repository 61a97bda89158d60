import { describe, expect, it } from 'vitest';
import { isSagaId, MAX_SAGA_ID_LENGTH, sagaIdProblem } from '../../../src/sagas/saga-id.js';

describe('saga ids', () => {
  it.each([
    'saga-6799acfe0b1c2d3e',
    '0f8fad5b-d9cb-469f-a165-70867728950e',
    'a/b_c|d-e=f+g',
    's'.repeat(MAX_SAGA_ID_LENGTH),
  ])('accepts the SpiceDB-safe id %s', (id) => {
    expect(sagaIdProblem(id)).toBeUndefined();
    expect(isSagaId(id)).toBe(true);
  });

  it.each([
    [undefined, /missing or empty/],
    ['', /missing or empty/],
    ['*', /may contain only/], // never a SpiceDB wildcard
    ['saga.1', /may contain only/],
    ['saga:1#initiator@user:x', /may contain only/],
    ['saga 1', /may contain only/],
    ['s-1,s-2', /may contain only/], // two header values joined by Envoy
    ['сага', /may contain only/],
    ['a\u0000b', /may contain only/],
    ['s'.repeat(MAX_SAGA_ID_LENGTH + 1), /longer than 128/],
  ])('refuses %j', (id, problem) => {
    expect(sagaIdProblem(id)).toMatch(problem);
    expect(isSagaId(id)).toBe(false);
  });

  it('stays linear on hostile input (a 1 MiB header is refused by its length)', () => {
    expect(sagaIdProblem('a'.repeat(1 << 20))).toMatch(/longer than/);
  });
});
