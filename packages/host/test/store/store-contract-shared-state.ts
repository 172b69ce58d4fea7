import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Role } from "../../src/auth/roles.ts";
import type { UserRecord } from "../../src/auth/types.ts";
import { DeployStatus, type DeploymentRecord } from "../../src/deploy/types.ts";
import type { Store } from "../../src/store/types.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * State that every instance on one store shares (see store-contract.ts): the first admin created
 * once however many instances start at once, and failed logins counted per address by the store.
 */
export function sharedStateContract(
  name: string,
  open: () => Promise<{ store: Store; close: () => Promise<void> }>,
) {
  describe(`${name} store contract: shared state`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(() => close());

    const user = (username: string): UserRecord => ({
      id: `id-${username}`,
      username,
      role: Role.Admin,
      hash: `hash-${username}`,
      createdAt: new Date(1_000),
    });

    it("adds the first user once, whatever its name, and nothing once a user exists", async () => {
      const added = await Promise.all(["a", "b", "c", "d"].map((n) => store.auth.addFirstUser(user(n))));
      expect(added.filter(Boolean)).toHaveLength(1);
      expect(await store.auth.listUsers()).toHaveLength(1);
      expect(await store.auth.addFirstUser(user("e"))).toBe(false);
      expect((await store.auth.listUsers()).map((u) => u.username)).toEqual([
        ["a", "b", "c", "d"][added.indexOf(true)],
      ]);
    });

    it("does not add a first user when only tokens exist, and adds it beside them", async () => {
      await store.auth.addToken({
        id: "t1",
        label: "ci",
        role: Role.Reader,
        jobs: null,
        hash: "h",
        createdAt: new Date(1_000),
      });
      expect(await store.auth.addFirstUser(user("admin"))).toBe(true);
      expect((await store.auth.listUsers()).map((u) => u.username)).toEqual(["admin"]);
    });

    it("counts failed logins per address, across concurrent writers, and restarts after the window", async () => {
      const counts = await Promise.all(
        Array.from({ length: 10 }, () => store.auth.recordLoginFailure("10.0.0.1", 60_000)),
      );
      expect([...counts].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await store.auth.recordLoginFailure("10.0.0.2", 60_000)).toBe(1);
      await sleep(30);
      // The last failure is older than a 10 ms window: a new count.
      expect(await store.auth.recordLoginFailure("10.0.0.1", 10)).toBe(1);
      expect(await store.auth.recordLoginFailure("10.0.0.1", 60_000)).toBe(2);
    });

    it("fails at start only the deployments in progress of instances that are not live, and its own", async () => {
      const deployment = (id: string): DeploymentRecord => ({
        id,
        status: DeployStatus.Pending,
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
      });
      const register = (id: string) =>
        store.instances.registerInstance(
          {
            id,
            hostName: "m",
            url: `http://${id}`,
            incarnation: id,
            previousIncarnation: null,
            activeRuns: 0,
          },
          60_000,
        );
      await register("live");
      await register("me");
      await store.insertDeployment(deployment("of-live"), false, "live");
      const only = { deadAfterMs: 60_000, alsoOf: "me" };
      // Another live instance's deployment is left alone, and still holds the lock.
      expect(await store.failIncompleteDeployments(new Date(2_000), "lost", only)).toEqual([]);
      expect((await store.getDeployment("of-live"))?.complete).toBe(false);
      // Once that instance stopped, it is failed; so is this instance's own, and one of no instance.
      await store.instances.stopInstance("live", "live");
      expect(await store.failIncompleteDeployments(new Date(2_000), "lost", only)).toEqual(["of-live"]);
      await store.insertDeployment(deployment("of-me"), false, "me");
      expect(await store.failIncompleteDeployments(new Date(2_000), "lost", only)).toEqual(["of-me"]);
      await store.insertDeployment(deployment("of-nobody"));
      // The live instances' sweep leaves one recorded by no instance (a client's PUT) alone.
      const sweep = { deadAfterMs: 60_000, ownedOnly: true };
      expect(await store.failIncompleteDeployments(new Date(2_000), "lost", sweep)).toEqual([]);
      expect(await store.failIncompleteDeployments(new Date(2_000), "lost", only)).toEqual(["of-nobody"]);
      expect(await store.getDeployment("of-nobody")).toMatchObject({
        complete: true,
        status: DeployStatus.Failed,
      });
    });

    it("forgets addresses silent for longer than the window", async () => {
      await store.auth.recordLoginFailure("old", 60_000);
      await sleep(30);
      await store.auth.recordLoginFailure("new", 60_000);
      expect(await store.auth.pruneLoginFailures(20)).toBe(1);
      expect(await store.auth.recordLoginFailure("old", 60_000)).toBe(1);
      expect(await store.auth.recordLoginFailure("new", 60_000)).toBe(2);
    });
  });
}
