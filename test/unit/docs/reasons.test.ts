import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { CALLER_MESSAGES, REASONS } from '../../../src/errors.js';
import { ROOT } from '../../helpers/tools.js';

/** docs/reasons.md and src/errors.ts describe the same closed set, with the same statuses. */
const rows = readFileSync(path.join(ROOT, 'docs/reasons.md'), 'utf8')
  .split('\n')
  .map((l) => /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|\s*([A-Z_]+)\s*\|\s*([^|]*?)\s*\|/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null)
  .map(([, code, http, grpc, message]) => ({
    code: code!,
    http: Number(http),
    grpc: grpc!,
    message: message!,
  }));

describe('docs/reasons.md', () => {
  it('documents every reason code, and no other', () => {
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(REASONS).sort());
  });

  it('gives each code its HTTP status and gRPC code', () => {
    for (const row of rows) {
      const reason = REASONS[row.code as keyof typeof REASONS];
      expect(row.http, row.code).toBe(reason.http);
      expect(status[row.grpc as keyof typeof status], row.code).toBe(reason.grpc);
    }
  });

  it('shows the fixed sentence a caller sees for each code', () => {
    for (const row of rows) {
      expect(row.message, row.code).toBe(CALLER_MESSAGES[row.code as keyof typeof REASONS]);
    }
  });
});
