import pino from "pino";
import { describe, expect, it } from "vitest";
import { findCgroupMounts } from "../../src/runs/containment/cgroup-mounts.ts";
import { Containment } from "../../src/runs/containment/containment.ts";

// What the host finds on the three kinds of machine (mountinfo and /proc/self/cgroup as they read).

const PURE_V2 = {
  mountinfo:
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate",
  cgroup: "0::/system.slice/webjobs.service\n",
};
const HYBRID = {
  mountinfo: [
    "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755",
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw",
    "30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
    "31 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct",
  ].join("\n"),
  cgroup: "4:memory:/process_api/abc\n3:cpu,cpuacct:/\n0::/\n",
};
const V1_ONLY = {
  mountinfo: [
    "30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
    "31 25 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu",
  ].join("\n"),
  cgroup: "4:memory:/user.slice\n3:cpu:/user.slice\n",
};
const CONTAINER = {
  // A container whose cgroup mount's root is its own cgroup, not the hierarchy's.
  mountinfo: "40 30 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
  cgroup: "0::/docker/abc/init\n",
};

describe("finding cgroups", () => {
  it("pure v2: the host's own cgroup under /sys/fs/cgroup, no v1", () => {
    expect(findCgroupMounts(PURE_V2.mountinfo, PURE_V2.cgroup)).toEqual({
      v2: "/sys/fs/cgroup/system.slice/webjobs.service",
      v1Memory: null,
      v1Cpu: null,
    });
  });

  it("hybrid: v2 at unified, memory and cpu from v1", () => {
    expect(findCgroupMounts(HYBRID.mountinfo, HYBRID.cgroup)).toEqual({
      v2: "/sys/fs/cgroup/unified",
      v1Memory: "/sys/fs/cgroup/memory/process_api/abc",
      v1Cpu: "/sys/fs/cgroup/cpu,cpuacct",
    });
  });

  it("v1 only", () => {
    expect(findCgroupMounts(V1_ONLY.mountinfo, V1_ONLY.cgroup)).toEqual({
      v2: null,
      v1Memory: "/sys/fs/cgroup/memory/user.slice",
      v1Cpu: "/sys/fs/cgroup/cpu/user.slice",
    });
  });

  it("a mount rooted at the container's own cgroup", () => {
    expect(findCgroupMounts(CONTAINER.mountinfo, CONTAINER.cgroup).v2).toBe("/sys/fs/cgroup/init");
  });

  it("no /proc at all (not Linux)", () => {
    expect(findCgroupMounts("", "")).toEqual({ v2: null, v1Memory: null, v1Cpu: null });
  });
});

describe("WEBJOBS_CONTAINMENT", () => {
  const none = { v2: null, v1Memory: null, v1Cpu: null };
  const log = pino({ level: "silent" });

  it("cgroup refuses to start where no cgroup can be made, and says why", () => {
    const containment = new Containment({ instanceId: "test", mode: "cgroup", log, mounts: none });
    expect(() => containment.start()).toThrow(
      /WEBJOBS_CONTAINMENT=cgroup, but no cgroup can be created here/,
    );
  });

  it("auto falls back to the /proc marker, and a cgroup folder it cannot create is a reason, not a crash", () => {
    const lines: string[] = [];
    const containment = new Containment({
      instanceId: "test-fallback",
      mode: "auto",
      log: pino({ level: "info" }, { write: (line: string) => void lines.push(line) }),
      mounts: { v2: "/proc/not-a-cgroup", v1Memory: null, v1Cpu: null },
    });
    containment.start();
    try {
      expect(containment.describeTracking()).toMatch(/WEBJOBS_RUN_MARKER/);
      expect(lines.join("\n")).toMatch(/cannot create \/proc\/not-a-cgroup\/webjobs-test-fallback/);
    } finally {
      containment.stop();
    }
  });
});
