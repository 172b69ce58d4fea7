import path from "node:path";

/**
 * The host ID keys receipts, timer status and locks in `azure-webjobs-hosts`: it must stay the same
 * across restarts and be shared by the processes of one job. `AzureFunctionsWebHost__hostid` (the
 * Functions setting) wins; else the WebJobs name, else the job script's folder name. 1–32 characters
 * of `[a-z0-9-]`, no dash at an edge or twice in a row.
 */
export function hostId(env = process.env, script = process.argv[1] ?? "job"): string {
  const raw =
    env.AzureFunctionsWebHost__hostid ??
    env.WEBJOBS_NAME ??
    path.basename(path.dirname(path.resolve(script)));
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .slice(0, 32)
    .replace(/^-+|-+$/g, "");
  return cleaned || "job";
}
