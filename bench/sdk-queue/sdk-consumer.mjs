// The SDK side of bench/sdk-queue: one queue-triggered function draining DRAIN_QUEUE, and one per
// idle queue reporting when each message was picked up. Default options, as a user gets them.
import { app } from "../../packages/sdk/src/index.ts";

const total = Number(process.env.DRAIN_COUNT);
let seen = 0;

app.storageQueue("drain", {
  queueName: process.env.DRAIN_QUEUE,
  handler: () => {
    seen += 1;
    if (seen === 1) console.log(`BENCH first ${Date.now()}`);
    if (seen === total) console.log(`BENCH done ${Date.now()}`);
  },
});

for (const queueName of process.env.IDLE_QUEUES.split(",")) {
  app.storageQueue(`idle_${queueName.replace(/-/g, "_")}`, {
    queueName,
    handler: (message) => console.log(`BENCH pickup ${message.sent} ${Date.now()}`),
  });
}
