// Every five minutes (NCRONTAB: sec min hour day month weekday), once across all instances.
import { app, output } from "webjobs-sdk";

app.timer("heartbeat", {
  schedule: "0 */5 * * * *",
  runOnStartup: true,
  return: output.storageQueue({ queueName: "heartbeats" }),
  handler: (timer, context) => {
    if (timer.isPastDue) context.warn("running late");
    return { at: new Date().toISOString() };
  },
});
