import { spawn, type ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";
import { MARKER_VARIABLE } from "./proc-scan.ts";

/**
 * A tiny shell process that outlives the host for one purpose: when the host dies, even by
 * SIGKILL, the kernel closes the host's end of the pipe on the watchdog's stdin, `cat` returns,
 * and the watchdog kills every process of this host's runs (its cgroups, and processes carrying
 * its marker), then removes the cgroup folders. A host that stops normally has stopped its jobs
 * already; the watchdog then finds nothing to do.
 */
const SCRIPT = `
cat >/dev/null 2>&1
prefix=$1; shift
i=0
while [ $i -lt 50 ]; do
  found=
  for d in "$@"; do
    [ -d "$d" ] || continue
    for k in $(find "$d" -mindepth 1 -name cgroup.kill 2>/dev/null); do echo 1 > "$k" 2>/dev/null; done
    p=$(find "$d" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null)
    if [ -n "$p" ]; then found=1; kill -9 $p 2>/dev/null; fi
  done
  p=$(grep -lzx "${MARKER_VARIABLE}=$prefix.*" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)
  if [ -n "$p" ]; then found=1; kill -9 $p 2>/dev/null; fi
  [ -z "$found" ] && break
  i=$((i+1))
  sleep 0.1
done
for d in "$@"; do
  [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  # The instance's folder too, unless another host process of it (a restart) is in it already.
  rmdir "$(dirname "$d")" 2>/dev/null
done
exit 0
`;

export class Watchdog {
  private child: ChildProcess | null = null;

  /** `markerPrefix`: this host's marker prefix; `dirs`: this host's cgroup folders. */
  start(markerPrefix: string, dirs: string[]): void {
    if (this.child) return;
    this.child = spawn("/bin/sh", ["-c", SCRIPT, "webjobs-watchdog", markerPrefix, ...dirs], {
      // Its own session, so that signals to the host's process group do not reach it, and "/" as
      // its folder, so that it holds no data folder busy.
      detached: true,
      cwd: "/",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["pipe", "ignore", "ignore"],
    });
    this.child.on("error", () => undefined);
    // Neither the process nor its pipe may keep the host's event loop alive.
    this.child.unref();
    (this.child.stdin as Writable & { unref?: () => void }).unref?.();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Lets the watchdog go (it sweeps once, finds nothing left, and exits). */
  stop(): void {
    this.child?.stdin?.end();
    this.child = null;
  }
}
