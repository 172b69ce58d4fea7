import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.ts";
import { eventually, runJob, type RunningJob } from "./support/job.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

// One job, each test on functions and queues of its own, mostly waiting for its output: side by side.
describe.concurrent("blob input, singleton, timeout, past-due timer with retries, bad connections", () => {
  let azurite: Azurite;
  let job: RunningJob;
  let queues: QueueServiceClient;
  let blobs: BlobServiceClient;

  beforeAll(async () => {
    azurite = await startAzurite();
    queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    for (const name of ["blob-input", "single", "slow"]) await queues.getQueueClient(name).create();
    await blobs.getContainerClient("docs").create();
    // A missed midnight: the status the timer left an hour ago says its next occurrence is past.
    const hosts = blobs.getContainerClient("azure-webjobs-hosts");
    await hosts.create();
    const past = new Date(Date.now() - 3600_000).toISOString();
    const status = JSON.stringify({ Last: null, Next: past, LastUpdated: past });
    await hosts.getBlockBlobClient("timers/cases/nightly/status").upload(status, status.length);
    // Right form, wrong key: every request is refused (403) by the account.
    const wrongKey = azurite.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${b64("not the key")}`);
    job = await runJob("handled-cases", {
      AzureWebJobsStorage: azurite.connectionString,
      WEBJOBS_NAME: "cases",
      MalformedStorage: "this is not a connection string",
      WrongKeyStorage: wrongKey,
    });
    await job.waitFor(/started 5 function/);
  });

  afterAll(async () => {
    await job?.stop();
    await azurite?.stop();
  });

  it("reads input.storageBlob by the message's binding data, null when the blob is missing", async () => {
    await blobs.getContainerClient("docs").getBlockBlobClient("readme.txt").upload("hello", 5);
    const queue = queues.getQueueClient("blob-input");
    await queue.sendMessage(b64(JSON.stringify({ name: "readme" })));
    await job.waitFor(/doc readme: 5 bytes "hello"/);
    await queue.sendMessage(b64(JSON.stringify({ name: "absent" })));
    await job.waitFor(/doc absent: null/);
  });

  it("runs a singleton function one invocation at a time", async ({ expect }) => {
    const queue = queues.getQueueClient("single");
    await Promise.all(["a", "b", "c"].map((m) => queue.sendMessage(b64(m))));
    await eventually(
      async () => ((job.output().match(/leave [abc] /g)?.length ?? 0) >= 3 ? true : undefined),
      15_000,
      "three singleton invocations",
    );
    const spans = ["a", "b", "c"]
      .map((m) => ({
        enter: Number(job.output().match(new RegExp(`enter ${m} (\\d+)`))![1]),
        leave: Number(job.output().match(new RegExp(`leave ${m} (\\d+)`))![1]),
      }))
      .sort((x, y) => x.enter - y.enter);
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]!.enter).toBeGreaterThanOrEqual(spans[i - 1]!.leave);
  });

  it("fails an invocation past its timeout, aborts its signal, and poisons the message after the retries", async ({
    expect,
  }) => {
    await queues.getQueueClient("slow").sendMessage(b64("slow"));
    await job.waitFor(/aborted: the invocation took longer than its timeout \(400 ms\)/);
    await job.waitFor(
      /moved to 'slow-poison': failed 2 times; last error: the invocation took longer than its timeout/,
    );
    const { receivedMessageItems } = await queues.getQueueClient("slow-poison").receiveMessages();
    expect(receivedMessageItems.map((m) => m.messageText)).toEqual([b64("slow")]);
  });

  it("fires a missed timer occurrence once at start, flagged past due, retried until it succeeds", async ({
    expect,
  }) => {
    await job.waitFor(/nightly pastDue=true attempt=2/);
    expect(job.output().match(/nightly pastDue=true attempt=\d/g)).toEqual([
      "nightly pastDue=true attempt=0",
      "nightly pastDue=true attempt=1",
      "nightly pastDue=true attempt=2",
    ]);
    // Fired once: the status moved on to the next midnight, and the run was recorded as the last one.
    // It is written after the invocation's last line: read until then (a read across the write can
    // size the blob by its old length and get the new bytes).
    const status = await eventually(
      async () => {
        const text = (
          await blobs
            .getContainerClient("azure-webjobs-hosts")
            .getBlobClient("timers/cases/nightly/status")
            .downloadToBuffer()
        ).toString();
        try {
          const json = JSON.parse(text) as { Last: string | null; Next: string };
          return json.Last !== null ? json : undefined;
        } catch {
          return undefined;
        }
      },
      5_000,
      "the timer status written",
    );
    expect(new Date(status.Next).getTime()).toBeGreaterThan(Date.now());
    expect(status.Last).not.toBeNull();
  });

  it("names a malformed or refused connection once, keeps running and serving the other functions", async ({
    expect,
  }) => {
    await job.waitFor(/function 'malformed' is not started: the setting MalformedStorage holds no valid/);
    await job.waitFor(
      /\[wrongKey\] cannot read queue 'elsewhere': the storage account refused the credentials of the setting WrongKeyStorage \(403\)/,
    );
    // Its later polls (100, 200, 400… ms apart) fail the same way and are not logged again; a message
    // handled after the first failure shows that time passed and the other functions serve.
    await queues.getQueueClient("blob-input").sendMessage(b64(JSON.stringify({ name: "later" })));
    await job.waitFor(/doc later: null/);
    expect(job.output().match(/\[wrongKey\] cannot read queue/g)).toHaveLength(1);
    expect(job.child.exitCode).toBeNull();
  });
});
