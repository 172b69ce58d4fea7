import { TableClient } from "@azure/data-tables";
import { QueueServiceClient } from "@azure/storage-queue";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type Azurite } from "./support/azurite.ts";
import { eventually, runJob, type RunningJob } from "./support/job.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const unb64 = (text: string) => Buffer.from(text, "base64").toString("utf8");

describe("queue trigger against Azurite", () => {
  let azurite: Azurite;
  let job: RunningJob;
  let queues: QueueServiceClient;
  let settings: string;

  beforeAll(async () => {
    azurite = await startAzurite();
    queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    await queues.getQueueClient("orders").createIfNotExists();
    // As the host runs it, with a settings.job whose stopping_wait_time (2 s) gives a 1 s grace:
    // the shutdown test waits out the grace of a message that never finishes.
    settings = await mkdtemp(path.join(os.tmpdir(), "webjobs-sdkjob-settings-"));
    await writeFile(path.join(settings, "settings.job"), JSON.stringify({ stopping_wait_time: 2 }));
    job = await runJob("queue-basic", {
      AzureWebJobsStorage: azurite.connectionString,
      WEBJOBS_PATH: settings,
    });
    await job.waitFor(/started 1 function/);
  });

  afterAll(async () => {
    await job?.stop();
    await azurite?.stop();
    if (settings) await rm(settings, { recursive: true, force: true });
  });

  async function receiveAll(queueName: string, count: number): Promise<string[]> {
    const queue = queues.getQueueClient(queueName);
    const found: string[] = [];
    await eventually(
      async () => {
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
        for (const m of receivedMessageItems) {
          found.push(unb64(m.messageText));
          await queue.deleteMessage(m.messageId, m.popReceipt);
        }
        return found.length >= count ? found : undefined;
      },
      15_000,
      `${count} messages on ${queueName}`,
    );
    return found;
  }

  it("runs text and JSON messages, writes queue and table outputs, with binding data", async () => {
    const orders = queues.getQueueClient("orders");
    await orders.sendMessage(b64("hello"));
    const [first] = await receiveAll("processed", 1);
    expect(first).toBe("echo:hello");
    // (How fast an idle queue is picked up is measured by bench/sdk-queue, not asserted here.)

    const sent = await orders.sendMessage(b64(JSON.stringify({ item: "book" })));
    const [json] = await receiveAll("processed", 1);
    const parsed = JSON.parse(json!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ id: sent.messageId, item: "book" });
    expect(typeof parsed.$AzureWebJobsParentId).toBe("string");
    const table = TableClient.fromConnectionString(azurite.connectionString, "Orders", {
      allowInsecureConnection: true,
    });
    // The outputs are written one after another: the table row may land after the queue message.
    const entity = await eventually(
      () => table.getEntity<{ item: string }>("orders", sent.messageId),
      15_000,
      "the table row",
    );
    expect(entity.item).toBe("book");
  });

  it("retries a failing message with its dequeue count, then moves it to the poison queue", async () => {
    await queues.getQueueClient("orders").sendMessage(b64("fail"));
    const [poison] = await receiveAll("orders-poison", 1);
    expect(poison).toBe("fail");
    expect(job.output()).toMatch(/got "fail" dequeue 1/);
    expect(job.output()).toMatch(/got "fail" dequeue 3/);
    await job.waitFor(/moved to 'orders-poison': failed 3 times; last error: asked to fail/);
  });

  it("poisons a body that is not base64 without running the function", async () => {
    await queues.getQueueClient("orders").sendMessage("not base64!");
    const [poison] = await receiveAll("orders-poison", 1);
    expect(Buffer.from(poison!, "base64").toString("utf8") === poison).toBe(false);
    await job.waitFor(/is not valid base64/);
    expect(job.output()).not.toMatch(/got "not base64!"/);
  });

  it("on SIGTERM stops taking work and makes a running message visible again at once", async () => {
    const orders = queues.getQueueClient("orders");
    await orders.sendMessage(b64("hang"));
    await job.waitFor(/got "hang" dequeue 1/);
    const code = await job.stop();
    expect(code).toBe(0);
    expect(job.output()).toMatch(/webjobs-sdk: stopped/);
    // Released (visibility 0), not left hidden for the 10-minute receive visibility.
    const { receivedMessageItems } = await orders.receiveMessages({ numberOfMessages: 1 });
    expect(receivedMessageItems.map((m) => unb64(m.messageText))).toEqual(["hang"]);
  });
});
