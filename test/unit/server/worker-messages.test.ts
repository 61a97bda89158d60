import { describe, expect, it } from 'vitest';
import { isPrimaryMessage, isWorkerMessage } from '../../../src/server/worker-messages.js';

describe('isPrimaryMessage / isWorkerMessage', () => {
  it.each([[{ jwtx: 'drain' }], [{ jwtx: 'hello' }], [{ jwtx: 'listening', grpcPort: 1 }]])(
    'take %o, which carries a jwtx type',
    (m) => {
      expect(isPrimaryMessage(m)).toBe(true);
      expect(isWorkerMessage(m)).toBe(true);
    },
  );

  it.each([
    [null],
    [undefined],
    ['drain'],
    [{}],
    [{ jwtx: 1 }],
    // node:cluster's own messages on the same channel
    [{ cmd: 'NODE_CLUSTER', act: 'online' }],
  ])('ignore %o', (m) => {
    expect(isPrimaryMessage(m)).toBe(false);
    expect(isWorkerMessage(m)).toBe(false);
  });
});
