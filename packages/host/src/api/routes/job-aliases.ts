/**
 * Kudu's older job routes, answered as aliases of the current ones for every operation:
 * `api/triggeredjobs`, `api/continuousjobs`, `jobs/{type}`, `api/jobs/{type}`, `api/jobs`, `jobs`.
 * Rewritten before routing (and before authentication, which then sees the current route), so
 * each alias behaves exactly like its route; the JSON's URLs are the current ones.
 */
const typed = [
  /^\/api\/(triggered|continuous)jobs(?=\/|\?|$)/i,
  /^\/(?:api\/)?jobs\/(triggered|continuous)(?=\/|\?|$)/i,
];
const all = /^\/(?:api\/)?jobs\/?(?=\?|$)/i;

export function rewriteJobAlias(url: string): string {
  for (const pattern of typed) {
    const match = pattern.exec(url);
    if (match) return `/api/${match[1].toLowerCase()}webjobs${url.slice(match[0].length)}`;
  }
  return all.test(url) ? url.replace(all, "/api/webjobs") : url;
}
