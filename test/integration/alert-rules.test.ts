import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, tool } from '../helpers/tools.js';

const run = promisify(execFile);
const ALERTS = path.join(ROOT, 'helm/jwtexchange/alerts');

/** The shipped Prometheus rules parse and fire as their unit tests say (real promtool). */
describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await run(tool('promtool'), ['check', 'rules', 'jwtexchange.rules.yaml'], {
      cwd: ALERTS,
    });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests', async () => {
    const { stdout } = await run(
      tool('promtool'),
      ['test', 'rules', 'jwtexchange.rules.test.yaml'],
      { cwd: ALERTS },
    );
    expect(stdout).toMatch(/SUCCESS/);
  });
});
