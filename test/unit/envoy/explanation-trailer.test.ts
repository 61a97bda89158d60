import { describe, expect, it } from 'vitest';
import {
  decodeExplanation,
  encodeExplanation,
  type ExplainStep,
} from '../../../src/envoy/explanation-trailer.js';

const STEPS: ExplainStep[] = [
  { phase: 'request', outcome: 'received', path: '/v2/ünï ✓', port: 8080 },
  { phase: 'authenticate', outcome: 'verified', cached: true },
  { phase: 'decision', outcome: 'allowed', note: 'tab\tand \u007f and 😀' },
];

describe('encodeExplanation', () => {
  it('writes printable ASCII only, which decodes back to the same steps', () => {
    const encoded = encodeExplanation(STEPS);
    expect(encoded).toMatch(/^[\x20-\x7e]*$/);
    expect(encoded).toContain('\\u00fc');
    expect(decodeExplanation(encoded)).toEqual(STEPS);
  });
});

describe('decodeExplanation', () => {
  it.each([[undefined], [42], [Buffer.from('[]')], ['not json'], ['{"phase":"a","outcome":"b"}']])(
    'is undefined for %o',
    (value) => {
      expect(decodeExplanation(value)).toBeUndefined();
    },
  );

  it('drops entries that are not steps', () => {
    const value = JSON.stringify([
      null,
      1,
      { phase: 'a' },
      { phase: 'a', outcome: 2 },
      { phase: 'exempt', outcome: 'not_exempt' },
    ]);
    expect(decodeExplanation(value)).toEqual([{ phase: 'exempt', outcome: 'not_exempt' }]);
  });
});
