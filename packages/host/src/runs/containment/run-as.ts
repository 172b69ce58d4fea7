import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { ErrorCode, WebJobsError } from "../../errors.ts";

/** The user jobs run as (WEBJOBS_RUN_AS), resolved once at start. */
export interface RunAsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** util-linux's setpriv: drops to the user after the process has entered its cgroups. */
  setpriv: string;
}

const fail = (message: string) => new WebJobsError(ErrorCode.BadRequest, `WEBJOBS_RUN_AS: ${message}`);

export function resolveRunAs(user: string): RunAsUser {
  if (process.getuid?.() !== 0) {
    throw fail(`the host must run as root to run jobs as '${user}'; it runs as uid ${process.getuid?.()}.`);
  }
  let entry: string;
  try {
    entry = execFileSync("getent", ["passwd", user], { encoding: "utf8" }).trim().split("\n")[0];
  } catch {
    throw fail(`no user '${user}' on this machine.`);
  }
  const [name, , uid, gid, , home] = entry.split(":");
  if (Number(uid) === 0) throw fail(`'${user}' is root; name a user without privileges.`);
  const setpriv = findOnPath("setpriv");
  if (!setpriv) throw fail("needs setpriv (util-linux), which is not installed.");
  return { name, uid: Number(uid), gid: Number(gid), home: home || "/", setpriv };
}

function findOnPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
