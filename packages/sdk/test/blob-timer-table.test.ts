import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.ts";
import { eventually, runJob, type RunningJob } from "./support/job.ts";

describe("blob trigger, table input and timer against Azurite", () => {
  let azurite: Azurite;
  let jobs: RunningJob[] = [];
  let blobs: BlobServiceClient;

  beforeAll(async () => {
    azurite = await startAzurite();
    blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    await blobs.getContainerClient("uploads").createIfNotExists();
    const prices = TableClient.fromConnectionString(azurite.connectionString, "Prices", {
      allowInsecureConnection: true,
    });
    await prices.createTable();
    await prices.createEntity({ partitionKey: "p", rowKey: "apple", amount: 3 });
    // Two processes of one job (same host ID): each blob version and each tick must run once in all.
    const env = { AzureWebJobsStorage: azurite.connectionString, WEBJOBS_NAME: "pair" };
    jobs = [await runJob("blob-timer-table", env), await runJob("blob-timer-table", env)];
    await Promise.all(jobs.map((job) => job.waitFor(/started 2 function/)));
  });

  afterAll(async () => {
    await Promise.all(jobs.map((job) => job.stop()));
    await azurite?.stop();
  });

  const count = (pattern: RegExp) =>
    jobs.reduce((n, job) => n + (job.output().match(pattern)?.length ?? 0), 0);

  it("runs a new blob once across two processes, with table input and a blob output; again when it changes", async () => {
    const source = blobs.getContainerClient("uploads").getBlockBlobClient("apple.txt");
    await source.upload("red", 3);
    const out = blobs.getContainerClient("resized").getBlobClient("apple.out");
    await eventually(async () => ((await out.exists()) ? true : undefined), 15_000, "resized/apple.out");
    expect((await out.downloadToBuffer()).toString()).toBe("RED 3");
    await source.upload("green", 5);
    await eventually(
      async () => ((await out.downloadToBuffer()).toString() === "GREEN 3" ? true : undefined),
      15_000,
      "the changed blob processed",
    );
    // Unmatched names never run; each version ran exactly once over both processes.
    await blobs.getContainerClient("uploads").getBlockBlobClient("notes.md").upload("x", 1);
    expect(count(/blob uploads\/apple\.txt price 3/g)).toBe(2);
  });

  it("fires the timer about every 2 seconds in one process only", async () => {
    const before = count(/tick pastDue=/g);
    await eventually(
      async () => (count(/tick pastDue=/g) >= before + 2 ? true : undefined),
      10_000,
      "two ticks",
    );
    const ticking = jobs.filter((job) => /tick pastDue=/.test(job.output()));
    expect(ticking).toHaveLength(1);
  });
});
