// The baseline of bench/sdk-queue: what one writes by hand with @azure/storage-queue. Receive a
// batch of BATCH_SIZE, decode each body, delete them all, receive again; when a receive comes back
// empty, sleep IDLE_MS (the SDK's longest idle wait, which it reaches after a few empty polls).
import { QueueServiceClient } from "@azure/storage-queue";

const service = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage);
const batchSize = Number(process.env.BATCH_SIZE);
const idleMs = Number(process.env.IDLE_MS);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(queueName, onMessage) {
  const queue = service.getQueueClient(queueName);
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: batchSize,
      visibilityTimeout: 600,
    });
    if (receivedMessageItems.length === 0) {
      await sleep(idleMs);
      continue;
    }
    await Promise.all(
      receivedMessageItems.map(async (m) => {
        onMessage(Buffer.from(m.messageText, "base64").toString("utf8"));
        await queue.deleteMessage(m.messageId, m.popReceipt);
      }),
    );
  }
}

const total = Number(process.env.DRAIN_COUNT);
let seen = 0;
void loop(process.env.DRAIN_QUEUE, () => {
  seen += 1;
  if (seen === 1) console.log(`BENCH first ${Date.now()}`);
  if (seen === total) console.log(`BENCH done ${Date.now()}`);
});
for (const queueName of process.env.IDLE_QUEUES.split(",")) {
  void loop(queueName, (text) => console.log(`BENCH pickup ${JSON.parse(text).sent} ${Date.now()}`));
}
console.log("BENCH ready");
