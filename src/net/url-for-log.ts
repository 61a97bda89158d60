/** A URL as logs and errors may show it: origin and path only, never userinfo or a query. */
export function urlForLog(url: string): string {
  if (!URL.canParse(url)) return '[invalid URL]';
  const u = new URL(url);
  // new URL() adds "/" to a bare origin; keep what was written, so an issuer logs as configured.
  const bare = u.pathname === '/' && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*\//.test(url);
  return bare ? u.origin : `${u.origin}${u.pathname}`;
}
