import { describe, expect, it } from "vitest";
import { detailedStatus, summarizeStatus } from "../../src/continuous/cluster-status.ts";

const line = (instanceId: string, status: string) => ({ instanceId, status });

describe("a continuous job's status on several instances", () => {
  it("is the status all instances agree on", () => {
    expect(summarizeStatus([line("a", "Running"), line("b", "Running")])).toBe("Running");
    expect(summarizeStatus([line("a", "Stopped")])).toBe("Stopped");
  });

  it("leaves singletons waiting elsewhere out, unless all are waiting", () => {
    expect(summarizeStatus([line("a", "InactiveInstance"), line("b", "Running")])).toBe("Running");
    expect(summarizeStatus([line("a", "PendingRestart"), line("b", "InactiveInstance")])).toBe(
      "PendingRestart",
    );
    expect(summarizeStatus([line("a", "InactiveInstance"), line("b", "InactiveInstance")])).toBe(
      "InactiveInstance",
    );
  });

  it("shows the status needing attention when instances disagree", () => {
    expect(summarizeStatus([line("a", "Running"), line("b", "PendingRestart")])).toBe("PendingRestart");
    expect(summarizeStatus([line("a", "Stopped"), line("b", "Stopping")])).toBe("Stopping");
    expect(summarizeStatus([line("a", "Running"), line("b", "Stopped")])).toBe("Stopped");
    expect(summarizeStatus([line("a", "Running"), line("b", "Starting"), line("c", "Stopped")])).toBe(
      "Starting",
    );
  });

  it("lists one line per instance by id, with Kudu's 6-character ids when they stay distinct", () => {
    expect(detailedStatus([line("f00dbeef1", "Running"), line("a1b2c3d4", "InactiveInstance")])).toBe(
      "a1b2c3 - InactiveInstance\nf00dbe - Running",
    );
    // worker-1 and worker-2 would both be "worker": whole ids keep them apart.
    expect(detailedStatus([line("worker-2", "Running"), line("worker-1", "Stopped")])).toBe(
      "worker-1 - Stopped\nworker-2 - Running",
    );
  });
});
