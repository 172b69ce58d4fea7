/** One instance's status of a continuous job, as shown in `detailed_status`. */
export interface InstanceStatusLine {
  instanceId: string;
  status: string;
}

const INACTIVE = "InactiveInstance";
const SHORT_ID = 6;

/**
 * When live instances disagree, the status that needs attention wins: a restart pending or a
 * change under way somewhere, then an instance where the job is not running. Unknown statuses
 * come first (they are never expected).
 */
const ATTENTION = [
  "PendingRestart",
  "Stopping",
  "Disabling",
  "Starting",
  "Initializing",
  "Stopped",
  "Running",
];

/**
 * Kudu's `status` of a continuous job on several instances: the status of an instance that is not
 * `InactiveInstance` (a singleton waiting elsewhere says nothing about the job), or
 * `InactiveInstance` when all are. Kudu takes any such instance's; we take the one they all agree
 * on, else the one that needs attention most (`ATTENTION`).
 */
export function summarizeStatus(lines: readonly InstanceStatusLine[]): string {
  const active = [...new Set(lines.map((l) => l.status).filter((s) => s !== INACTIVE))];
  if (active.length === 0) return lines.length > 0 ? INACTIVE : "Initializing";
  if (active.length === 1) return active[0]!;
  const rank = (s: string) => ATTENTION.indexOf(s);
  return active.sort((a, b) => rank(a) - rank(b))[0]!;
}

/**
 * Kudu's `detailed_status`: one `{instance} - {status}` line per instance, by instance id. Kudu
 * shows 6-character instance ids (as in its log lines); when two instances' ids share their first
 * 6 characters (`worker-1`, `worker-2`), whole ids keep the lines apart.
 */
export function detailedStatus(lines: readonly InstanceStatusLine[]): string {
  const sorted = [...lines].sort((a, b) =>
    a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0,
  );
  const shortIds = new Set(sorted.map((l) => l.instanceId.slice(0, SHORT_ID)));
  const id = shortIds.size === sorted.length ? (i: string) => i.slice(0, SHORT_ID) : (i: string) => i;
  return sorted.map((l) => `${id(l.instanceId)} - ${l.status}`).join("\n");
}
