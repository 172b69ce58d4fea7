import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Where this machine mounts cgroups, and which cgroup this process is in. Machines differ: pure
 * cgroup v2 at /sys/fs/cgroup (current distributions), hybrid (v1 controllers under
 * /sys/fs/cgroup/<controller>, v2 without controllers at /sys/fs/cgroup/unified), or v1 only.
 */
export interface CgroupMounts {
  /** The folder of this process's own v2 cgroup, or null without a v2 mount. */
  v2: string | null;
  /** The folders of this process's own v1 cgroups for the `memory` and `cpu` controllers. */
  v1Memory: string | null;
  v1Cpu: string | null;
}

interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** /proc/self/mountinfo: `id parent maj:min root mountpoint opts [optional…] - fstype source superopts`. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6) continue;
    mounts.push({
      root: unescapeMountPath(fields[3]),
      mountPoint: unescapeMountPath(fields[4]),
      fsType: fields[dash + 1],
      superOptions: (fields[dash + 3] ?? "").split(","),
    });
  }
  return mounts;
}

/** Mount paths escape spaces and the like as octal (`\040`). */
const unescapeMountPath = (text: string) =>
  text.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** /proc/self/cgroup: `hierarchy-id:controllers:path`, `0::path` for v2. */
export function parseProcCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const cgroupPath = line.slice(second + 1);
    if (line.slice(0, first) === "0" && controllers === "") v2 = cgroupPath;
    else for (const controller of controllers.split(",")) v1.set(controller, cgroupPath);
  }
  return { v2, v1 };
}

/** The folder of a cgroup path on a mount whose root may itself be a sub-cgroup. */
function folderOf(mount: Mount, cgroupPath: string): string {
  const relative =
    mount.root !== "/" && (cgroupPath === mount.root || cgroupPath.startsWith(`${mount.root}/`))
      ? cgroupPath.slice(mount.root.length)
      : cgroupPath;
  return path.join(mount.mountPoint, relative).replace(/(.)\/+$/, "$1");
}

export function findCgroupMounts(
  mountInfo = safeRead("/proc/self/mountinfo"),
  procCgroup = safeRead("/proc/self/cgroup"),
): CgroupMounts {
  const mounts = parseMountInfo(mountInfo);
  const own = parseProcCgroup(procCgroup);
  const v2Mount = mounts.find((mount) => mount.fsType === "cgroup2");
  const v1 = (controller: string) => {
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes(controller));
    const ownPath = own.v1.get(controller);
    return mount && ownPath !== undefined ? folderOf(mount, ownPath) : null;
  };
  return {
    v2: v2Mount && own.v2 !== null ? folderOf(v2Mount, own.v2) : null,
    v1Memory: v1("memory"),
    v1Cpu: v1("cpu"),
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
