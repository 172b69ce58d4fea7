import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Role } from "../../src/auth/roles.ts";
import { DeployStatus, type DeploymentRecord } from "../../src/deploy/types.ts";
import {
  CredentialKind,
  HookEvent,
  JobType,
  RunStatus,
  StoreConflictError,
  type JobRecord,
  type RunRecord,
  type Store,
} from "../../src/store/types.ts";

/**
 * The rest of the store contract (see store-contract.ts): jobs and their desired state, the
 * run history, processes, credentials, users, tokens and sessions, hooks, deployments, app
 * settings and the audit trail. What matters most here are the rules the database enforces.
 */
export function recordsContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: records`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const job = (jobName: string, patch: Partial<JobRecord> = {}): JobRecord => ({
      type: JobType.Continuous,
      name: jobName,
      version: "v1",
      script: "run.sh",
      settings: { is_singleton: false },
      error: null,
      desiredState: "running",
      sourceFingerprint: null,
      createdAt: new Date(1_000),
      updatedAt: new Date(1_000),
      ...patch,
    });
    const run = (jobName: string, id: string, status: RunRecord["status"]): RunRecord => ({
      jobName,
      id,
      status,
      reason: null,
      trigger: "test",
      arguments: "",
      version: "v1",
      instanceId: "i1",
      startTime: new Date(Number(id) * 1000),
      endTime: null,
      exitCode: null,
      signal: null,
      cpuMs: null,
      peakRssBytes: 5_000_000_000,
      pid: null,
      scheduledTime: null,
      attempt: null,
    });
    const deployment = (id: string, patch: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
      id,
      status: DeployStatus.Building,
      statusText: "",
      author: null,
      authorEmail: null,
      deployer: "test",
      message: "",
      progress: "",
      receivedTime: new Date(1_000),
      startTime: new Date(1_000),
      endTime: null,
      complete: false,
      isReadonly: false,
      ...patch,
    });

    it("keeps one job per (type, name) and its desired state", async () => {
      await store.upsertJob(job("a"));
      await store.upsertJob(job("a", { type: JobType.Triggered }));
      await store.upsertJob(job("a", { version: "v2", desiredState: "stopped", createdAt: new Date(9_000) }));
      const stored = await store.getJob(JobType.Continuous, "a");
      // An update keeps the creation time.
      expect(stored).toMatchObject({ version: "v2", desiredState: "stopped", createdAt: new Date(1_000) });
      expect(stored!.settings).toEqual({ is_singleton: false });
      expect((await store.listJobs()).map((j) => `${j.type}/${j.name}`)).toEqual([
        "continuous/a",
        "triggered/a",
      ]);
      expect(await store.listJobs(JobType.Triggered)).toHaveLength(1);
      await store.deleteJob(JobType.Continuous, "a");
      expect(await store.getJob(JobType.Continuous, "a")).toBeNull();
    });

    it("ends a run once: a status change after the end changes nothing", async () => {
      await store.insertRun(run("job", "1", RunStatus.Initializing));
      expect(await store.updateRun("job", "1", { status: RunStatus.Running, pid: 42 })).toBe(true);
      expect(await store.updateRun("job", "1", { status: RunStatus.Success, endTime: new Date(5_000) })).toBe(
        true,
      );
      expect(await store.updateRun("job", "1", { status: RunStatus.Aborted, reason: "late" })).toBe(false);
      // Figures measured after the end may still be written.
      expect(await store.updateRun("job", "1", { cpuMs: 12 })).toBe(true);
      expect(await store.getRun("job", "1")).toMatchObject({
        status: RunStatus.Success,
        reason: null,
        pid: 42,
        cpuMs: 12,
        peakRssBytes: 5_000_000_000,
        endTime: new Date(5_000),
      });
    });

    it("pages the history newest first, keeps the newest finished runs and finds active ones", async () => {
      for (const id of ["1", "2", "3", "4"]) await store.insertRun(run("a", id, RunStatus.Success));
      await store.insertRun(run("a", "5", RunStatus.Running));
      await store.insertRun(run("b", "3", RunStatus.Failed));
      const latest = await store.latestRunOfEachJob();
      expect([...latest].map(([k, v]) => `${k}:${v.id}`).sort()).toEqual(["a:5", "b:3"]);
      const page = await store.queryRuns({ limit: 3 });
      expect(page.map((r) => `${r.jobName}/${r.id}`)).toEqual(["a/5", "a/4", "b/3"]);
      const next = await store.queryRuns({ limit: 2, before: { id: "3", jobName: "b" } });
      expect(next.map((r) => `${r.jobName}/${r.id}`)).toEqual(["a/3", "a/2"]);
      const failed = await store.queryRuns({ limit: 10, statuses: [RunStatus.Failed] });
      expect(failed.map((r) => r.jobName)).toEqual(["b"]);
      const window = await store.queryRuns({
        limit: 10,
        job: "a",
        from: new Date(2_000),
        to: new Date(4_000),
      });
      expect(window.map((r) => r.id)).toEqual(["3", "2"]);
      expect((await store.activeRuns()).map((r) => r.id)).toEqual(["5"]);
      expect(await store.activeRuns("other")).toEqual([]);
      // The active run is never pruned.
      expect(await store.pruneRuns("a", 2)).toEqual(["2", "1"]);
      expect((await store.listRuns("a")).map((r) => r.id)).toEqual(["5", "4", "3"]);
      await store.deleteRuns("a");
      expect(await store.listRuns("a")).toEqual([]);
    });

    it("records processes per instance", async () => {
      const p = { pid: 100, startTicks: "5", owner: "run a/1", instanceId: "i1" };
      await store.addProcess(p);
      await store.addProcess({ ...p, startTicks: "6" });
      await store.addProcess({ ...p, instanceId: "i2" });
      expect(await store.listProcesses("i1")).toEqual([{ ...p, startTicks: "6" }]);
      await store.removeProcess(100, "i1");
      expect(await store.listProcesses("i1")).toEqual([]);
      expect(await store.listProcesses("i2")).toHaveLength(1);
    });

    it("keeps one account per user name and never removes the last admin", async () => {
      const user = (username: string, role: Role = Role.Admin) => ({
        id: `id-${username}-${role}`,
        username,
        role,
        hash: "scrypt",
        createdAt: new Date(1_000),
      });
      expect(await store.auth.addUser(user("ann"))).toBe(true);
      expect(await store.auth.addUser(user("ann", Role.Reader))).toBe(false);
      expect(await store.auth.changeRole("ann", Role.Reader)).toBe("last_admin");
      expect(await store.auth.removeUser("ann")).toBe("last_admin");
      await store.auth.addUser(user("bob", Role.Operator));
      expect(await store.auth.changeRole("bob", Role.Admin)).toBe("changed");
      expect(await store.auth.removeUser("ann")).toBe("removed");
      expect(await store.auth.removeUser("ann")).toBe("missing");
      expect(await store.auth.changeRole("ann", Role.Admin)).toBe("missing");
      expect((await store.auth.listUsers()).map((u) => `${u.username}:${u.role}`)).toEqual(["bob:admin"]);
      // Credentials of the older API share the table: a password row is a user.
      const credential = {
        id: "c1",
        kind: CredentialKind.Password,
        username: "cy",
        hash: "h",
        createdAt: new Date(),
      };
      await store.addCredential(credential);
      await expect(store.addCredential(credential)).rejects.toThrow();
      expect((await store.listCredentials(CredentialKind.Password)).map((c) => c.username)).toEqual([
        "bob",
        "cy",
      ]);
      expect(await store.deleteCredential("c1")).toBe(true);
      expect(await store.deleteCredential("c1")).toBe(false);
    });

    it("ends a user's sessions with a new password, expires sessions, finds tokens by hash", async () => {
      await store.auth.addUser({
        id: "u",
        username: "ann",
        role: Role.Admin,
        hash: "h1",
        createdAt: new Date(),
      });
      const session = (idHash: string, expiresAt: number) => ({
        idHash,
        username: "ann",
        address: "127.0.0.1",
        createdAt: new Date(1_000),
        expiresAt: new Date(expiresAt),
      });
      await store.auth.addSession(session("s1", 10_000));
      await store.auth.addSession(session("s2", 20_000));
      expect(await store.auth.getSession("s1", new Date(9_999))).toMatchObject({ username: "ann" });
      expect(await store.auth.getSession("s1", new Date(10_000))).toBeNull();
      expect(await store.auth.deleteExpiredSessions(new Date(15_000))).toBe(1);
      expect(await store.auth.setUserPassword("ann", "h2")).toBe(true);
      expect(await store.auth.getSession("s2", new Date(0))).toBeNull();
      expect(await store.auth.setUserPassword("nobody", "h")).toBe(false);
      expect((await store.auth.getUser("ann"))!.hash).toBe("h2");

      const token = {
        id: "t1",
        label: "ci",
        role: Role.Operator,
        jobs: ["a"],
        hash: "sha",
        createdAt: new Date(),
      };
      await store.auth.addToken(token);
      await store.auth.addToken({ ...token, id: "t2", jobs: null, hash: "sha2" });
      expect(await store.auth.findTokenByHash("sha")).toEqual(token);
      expect((await store.auth.listTokens()).map((t) => t.jobs)).toEqual([["a"], null]);
      // Tokens are not users.
      expect(await store.auth.listUsers()).toHaveLength(1);
    });

    it("keeps one hook per (event, URL) and records deliveries", async () => {
      const hook = {
        id: "h1",
        event: HookEvent.TriggeredJobFinished,
        url: "http://127.0.0.1/hook",
        insecureSsl: false,
        createdAt: new Date(1_000),
        lastStatus: null,
        lastDatetime: null,
        lastReason: null,
      };
      expect(await store.addHook(hook)).toBe(true);
      expect(await store.addHook({ ...hook, id: "h2" })).toBe(false);
      expect(await store.addHook({ ...hook, id: "h3", event: HookEvent.TriggeredJobFailed })).toBe(true);
      await store.recordHookDelivery("h1", "200", null, new Date(2_000));
      expect(await store.listHooks(HookEvent.TriggeredJobFinished)).toEqual([
        { ...hook, lastStatus: "200", lastDatetime: new Date(2_000) },
      ]);
      expect(await store.deleteHook("h1")).toBe(true);
      expect(await store.deleteHook("h1")).toBe(false);
      expect(await store.listHooks()).toHaveLength(1);
    });

    it("holds one deployment in progress, replaces only finished ones, keeps logs in order", async () => {
      await store.insertDeployment(deployment("d1"));
      await expect(store.insertDeployment(deployment("d2"))).rejects.toBeInstanceOf(StoreConflictError);
      await expect(store.insertDeployment(deployment("d1"), true)).rejects.toBeInstanceOf(StoreConflictError);
      const entry = (id: string, parentId: string | null) => ({
        deploymentId: "d1",
        id,
        logTime: new Date(1_000),
        message: id,
        type: 0 as const,
        parentId,
      });
      for (const [id, parent] of [
        ["e1", null],
        ["e2", null],
        ["e1.1", "e1"],
      ] as const) {
        await store.addDeploymentLog(entry(id, parent));
      }
      expect((await store.listDeploymentLog("d1", null)).map((e) => e.id)).toEqual(["e1", "e2"]);
      expect((await store.listDeploymentLog("d1", "e1")).map((e) => e.id)).toEqual(["e1.1"]);
      await store.updateDeployment("d1", {
        status: DeployStatus.Success,
        complete: true,
        endTime: new Date(3_000),
      });
      await store.insertDeployment(deployment("d2"));
      expect(await store.failIncompleteDeployments(new Date(4_000), "host stopped")).toEqual(["d2"]);
      expect(await store.getDeployment("d2")).toMatchObject({ status: DeployStatus.Failed, complete: true });
      expect((await store.lastSuccessfulDeployment())!.id).toBe("d1");
      // Replacing a finished deployment drops its log.
      await store.insertDeployment(deployment("d1", { complete: true, status: DeployStatus.Success }), true);
      expect(await store.listDeploymentLog("d1", null)).toEqual([]);
      expect((await store.listDeployments(10)).map((d) => d.id)).toEqual(["d1", "d2"]);
      await store.pruneDeployments(1);
      expect((await store.listDeployments(10)).map((d) => d.id)).toEqual(["d1"]);
    });

    it("keeps one app setting per (scope, name)", async () => {
      const setting = { scope: "", name: "A", value: "1", secret: false, updatedAt: new Date(1_000) };
      await store.appSettings.putAppSetting(setting);
      await store.appSettings.putAppSetting({ ...setting, value: "2", secret: true });
      await store.appSettings.putAppSetting({ ...setting, scope: "job" });
      expect(await store.appSettings.listAppSettings()).toEqual([
        { ...setting, value: "2", secret: true },
        { ...setting, scope: "job" },
      ]);
      expect(await store.appSettings.deleteAppSetting("job", "A")).toBe(true);
      expect(await store.appSettings.deleteAppSetting("job", "A")).toBe(false);
    });

    it("pages the audit trail newest first, by target prefix, and prunes it", async () => {
      const entry = (at: number, target: string) => ({
        at: new Date(at),
        actor: "ann",
        actorKind: "password",
        action: "run",
        target,
        status: 202,
        address: null,
        detail: null,
      });
      await store.audit.addAudit(entry(1_000, "job"));
      await store.audit.addAudit(entry(2_000, "job/run"));
      await store.audit.addAudit(entry(3_000, "job_2"));
      const all = await store.audit.queryAudit({ limit: 10 });
      expect(all.map((e) => e.target)).toEqual(["job_2", "job/run", "job"]);
      expect(all[0]!.seq).toBeGreaterThan(all[1]!.seq);
      // `_` is not a wildcard: job_2 is not one of job's entries.
      expect((await store.audit.queryAudit({ limit: 10, target: "job" })).map((e) => e.target)).toEqual([
        "job/run",
        "job",
      ]);
      expect(await store.audit.queryAudit({ limit: 10, before: all[1]!.seq })).toHaveLength(1);
      expect(await store.audit.pruneAudit(new Date(2_500))).toBe(2);
      expect(await store.audit.queryAudit({ limit: 10 })).toHaveLength(1);
    });
  });
}
