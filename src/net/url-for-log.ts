/** A URL as logs and errors may show it: origin and path only, never userinfo or a query. */
export function urlForLog(url: string): string {
  if (!URL.canParse(url)) return '[invalid URL]';
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
