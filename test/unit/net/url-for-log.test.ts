import { describe, expect, it } from 'vitest';
import { urlForLog } from '../../../src/net/url-for-log.js';

describe('urlForLog', () => {
  it('keeps origin and path, drops userinfo, query and fragment', () => {
    expect(urlForLog('https://user:secret@sts.example:8443/realms/a/token?code=x#f')).toBe(
      'https://sts.example:8443/realms/a/token',
    );
  });

  it('writes a bare origin as configured, with or without the slash', () => {
    expect(urlForLog('https://sts.example')).toBe('https://sts.example');
    expect(urlForLog('https://sts.example/')).toBe('https://sts.example/');
    expect(urlForLog('https://sts.example?x=1')).toBe('https://sts.example');
  });

  it('never echoes what it cannot parse', () => {
    expect(urlForLog('not a url with secret')).toBe('[invalid URL]');
  });
});
