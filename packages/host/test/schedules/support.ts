import { deployZip, makeZip, waitFor, type TestHost } from "../support/host.ts";

export interface FireJson {
  scheduled_time: string;
  outcome: string;
  run_id: string | null;
  attempt: number;
  reason: string | null;
  retry_at: string | null;
}

export interface RunJson {
  id: string;
  status: string;
  reason: string | null;
  trigger: string;
  scheduled_time: string | null;
  attempt: number | null;
}

/** Deploys a shell script with a settings.job through the API (the upload must be accepted). */
export async function deployScheduled(
  t: TestHost,
  name: string,
  script: string,
  settings: Record<string, unknown>,
): Promise<void> {
  const zip = await makeZip({ "run.sh": script, "settings.job": JSON.stringify(settings) });
  const response = await deployZip(t, "triggered", name, zip);
  if (response.status !== 200)
    throw new Error(`deploy answered ${response.status}: ${await response.text()}`);
}

export async function fires(t: TestHost, name: string): Promise<FireJson[]> {
  const response = await t.api(`/api/triggeredwebjobs/${name}/fires`);
  if (response.status !== 200) throw new Error(`fires answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as FireJson[];
}

export async function runs(t: TestHost, name: string): Promise<RunJson[]> {
  return ((await (await t.api(`/api/triggeredwebjobs/${name}/history`)).json()) as { runs: RunJson[] }).runs;
}

/** Waits until the job's fires satisfy `check`; returns them (newest first). */
export function waitForFires(
  t: TestHost,
  name: string,
  check: (fires: FireJson[]) => boolean,
  timeoutMs = 15_000,
): Promise<FireJson[]> {
  return waitFor(
    async () => {
      const list = await fires(t, name);
      return check(list) ? list : undefined;
    },
    timeoutMs,
    `fires of ${name}`,
  );
}

export function waitForRuns(
  t: TestHost,
  name: string,
  check: (runs: RunJson[]) => boolean,
  timeoutMs = 15_000,
): Promise<RunJson[]> {
  return waitFor(
    async () => {
      const list = await runs(t, name);
      return check(list) ? list : undefined;
    },
    timeoutMs,
    `runs of ${name}`,
  );
}

export const ended = (run: RunJson) => ["Success", "Failed", "Aborted"].includes(run.status);

/** An instant `seconds` from now, to the second, as an ISO string with Z. */
export function inSeconds(seconds: number): string {
  return new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toISOString().replace(".000Z", "Z");
}
