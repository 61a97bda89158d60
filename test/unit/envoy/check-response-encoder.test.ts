import { describe, expect, it } from 'vitest';
import { encodeCheckResponse } from '../../../src/envoy/check-response-encoder.js';
import { authorizationService } from '../../../src/envoy/proto.js';
import type { CheckResponse } from '../../../src/envoy/types.js';
import { toCheckResponse } from '../../../src/check/response.js';
import { allow, deny } from '../../../src/check/decision.js';

const generic = authorizationService().Check!;
const genericResponse = (buf: Buffer) => generic.responseDeserialize(buf) as CheckResponse;

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('lean CheckResponse encoder', () => {
  const identity: [string, string][] = [
    ['x-jwtauth-subject', 'alice'],
    ['x-jwtauth-claims', 'eyJzdWIiOiJhbGljZSJ9'],
    ['x-ünïcode', 'välue ✓'],
  ];
  const responses: [string, CheckResponse][] = [
    [
      'allow with headers',
      toCheckResponse(allow('allowed', identity, ['x-jwtauth-kind']), undefined),
    ],
    ['allow without headers', toCheckResponse(allow('passthrough'), undefined)],
    ['deny 401 (JSON)', toCheckResponse(deny('token_expired', 'the token has expired'), undefined)],
    ['deny 403', toCheckResponse(deny('audience_not_allowed', 'audience "x"'), undefined)],
    [
      'append true, response headers, status message',
      {
        status: { code: 0, message: 'fine' },
        ok_response: {
          headers: [
            {
              header: { key: 'a', value: 'b' },
              append: { value: true },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          ],
          headers_to_remove: ['x-a', 'x-b'],
          response_headers_to_add: [
            {
              header: { key: 'c', value: 'd' },
              append: { value: false },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          ],
        },
      },
    ],
  ];

  for (const [name, response] of responses) {
    it(`writes what the generic decoder reads back: ${name}`, () => {
      const lean = encodeCheckResponse(response);
      // Byte for byte what the generic encoder writes, so Envoy sees no difference at all.
      expect(lean.equals(generic.responseSerialize(response) as Buffer)).toBe(true);
      expect(plain(genericResponse(lean))).toEqual(
        plain(genericResponse(generic.responseSerialize(response))),
      );
    });
  }

  it('encodes a reused (frozen) header option in every field it appears in', () => {
    const option = Object.freeze({
      header: Object.freeze({ key: 'x-jwtauth-subject', value: 'bob' }),
      append: Object.freeze({ value: false }),
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' as const,
    });
    const response: CheckResponse = {
      status: { code: 0 },
      ok_response: {
        headers: [option, option],
        headers_to_remove: [],
        response_headers_to_add: [option],
      },
    };
    const first = encodeCheckResponse(response);
    expect(encodeCheckResponse(response)).toEqual(first);
    const decoded = genericResponse(first);
    expect(decoded.ok_response!.headers.map((h) => h.header.value)).toEqual(['bob', 'bob']);
    expect(decoded.ok_response!.response_headers_to_add.map((h) => h.header.key)).toEqual([
      'x-jwtauth-subject',
    ]);
  });
});
