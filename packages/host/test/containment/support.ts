import { chmod, mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { resolveConfig, type ConfigInput } from "../../src/config.ts";
import { Host } from "../../src/host.ts";
import { AUTH, PASSWORD, USER, waitFor, type TestHost } from "../support/host.ts";

/** A test host whose log lines are kept (what it says at start is part of the contract). */
export async function startLoggedHost(options: ConfigInput = {}): Promise<TestHost & { logs: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "webjobs-test-"));
  // A job run as another user must be able to reach its folders.
  await chmod(dir, 0o755);
  const logs: string[] = [];
  const config = resolveConfig(
    {
      host: "127.0.0.1",
      port: 0,
      dataDir: dir,
      username: USER,
      password: PASSWORD,
      watchDebounceMs: 300,
      ...options,
    },
    {},
  );
  const log = pino({ level: "info" }, { write: (line: string) => void logs.push(line) });
  const host = new Host(config, { log });
  await host.start();
  const url = host.url;
  const api = (p: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", AUTH);
    return fetch(url + p, { ...init, headers });
  };
  return {
    host,
    url,
    dataDir: dir,
    api,
    logs,
    stop: async () => {
      await host.stop();
      if (!process.env.KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Alive: the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Reads a pid a job wrote into a file, once it is there. */
export async function pidFrom(file: string, timeoutMs = 10_000): Promise<number> {
  return waitFor(
    () => {
      try {
        const pid = Number(readFileSync(file, "utf8").trim());
        return pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    `a pid in ${file}`,
  );
}

export const waitGone = (pids: number[], timeoutMs = 10_000) =>
  waitFor(() => pids.every((pid) => !isAlive(pid)), timeoutMs, `processes ${pids.join(", ")} to be gone`);

/**
 * A job whose descendants escape its process group and ignore SIGTERM: one calls `setsid`, one
 * is double-forked (its parent exits, it is re-parented away from the job). Each writes its pid.
 */
export const DAEMONISING_JOB = `#!/bin/bash
echo $$ > "$WEBJOBS_DATA_PATH/leader.pid"
setsid bash -c 'trap "" TERM; echo $$ > "$WEBJOBS_DATA_PATH/setsid.pid"; while :; do sleep 0.2; done' </dev/null >/dev/null 2>&1 &
( bash -c 'trap "" TERM; echo $$ > "$WEBJOBS_DATA_PATH/double.pid"; exec sleep 1000' & ) </dev/null >/dev/null 2>&1
trap "" TERM
echo started
while :; do sleep 0.2; done
`;
