/**
 * Queue-trigger benchmark (issue 12: "bench/sdk-queue"), against a real Azurite on loopback.
 *
 * 1. Throughput: one queue-triggered function (default options: batch 16, new batch at
 *    `floor(16/2) × CPUs`) drains COUNT messages, next to a hand-written `@azure/storage-queue`
 *    receive / delete loop with the same batch size. Each drains its own queue, filled beforehand,
 *    one after the other; messages/s is counted from the first message handled to the last, so
 *    process start-up is left out. Both consumers are child processes, decode base64 and delete.
 * 2. Idle pickup latency: after IDLE_S of idle queues, a message is sent to each of QUEUES idle
 *    queues of both consumers at once, ROUNDS times; latency = handler start − just before the send.
 *    Rounds are 3–5 s apart so the SDK's back-off (100, 200, 400, 800 ms…) is back at its longest
 *    idle wait, the worst case. The baseline polls at that same longest wait, fixed; the theoretical
 *    floor of such a loop is a uniform wait in [0, wait + receive] plus the receive's round trip.
 *
 * Run: npm run bench:sdk-queue   (COUNT=10000 ROUNDS=20 QUEUES=5 IDLE_S=30 to change the counts)
 */
import { QueueServiceClient } from "@azure/storage-queue";
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startAzurite } from "../packages/sdk/test/support/azurite.ts";
import { percentile, percentileRow, printTable } from "./report.ts";

/**
 * Azurite runs with bench/sdk-queue/azurite-loki-fix.mjs preloaded: unpatched, its LokiJS store
 * re-sorts every index on each queue request (empty and small batch removes and updates), so its
 * cost per request grows as O(N log N) with the messages it holds — about 230 msg/s at 500
 * messages, 64 at 2,000, a few at 10,000 — and a deep queue measured Azurite, not the consumers.
 * The preload keeps LokiJS's indices incremental; Azurite's answers do not change.
 */
const COUNT = Number(process.env.COUNT ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const QUEUES = Number(process.env.QUEUES ?? 5);
const IDLE_S = Number(process.env.IDLE_S ?? 30);
/** The SDK's defaults, which the baseline copies. */
const BATCH_SIZE = 16;
const MAX_POLLING_MS = 900;

const here = path.join(path.dirname(fileURLToPath(import.meta.url)), "sdk-queue");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (text: string) => Buffer.from(text).toString("base64");

interface Consumer {
  child: ChildProcess;
  /** Resolves with the first `BENCH <kind> …` line's fields once it is printed. */
  next(kind: string): Promise<string[]>;
  pickups: Map<string, number>;
  stop(): Promise<void>;
}

function startConsumer(script: string, env: Record<string, string>): Consumer {
  const child = spawn(process.execPath, [path.join(here, script)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[][] = [];
  const pickups = new Map<string, number>();
  const waiters: (() => void)[] = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) {
      const m = /^BENCH (\w+)(.*)$/.exec(line);
      if (!m) continue;
      const fields = [m[1], ...m[2].trim().split(" ")];
      if (fields[0] === "pickup") pickups.set(fields[1], Number(fields[2]));
      else lines.push(fields);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    child,
    pickups,
    next: async (kind) => {
      for (;;) {
        const found = lines.find((l) => l[0] === kind);
        if (found) return found.slice(1);
        if (child.exitCode !== null) throw new Error(`${script} exited before printing ${kind}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Sends `count` base64 messages, 64 requests at a time. */
async function fill(service: QueueServiceClient, queueName: string, count: number): Promise<void> {
  const started = performance.now();
  const queue = service.getQueueClient(queueName);
  let sent = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent < count) {
        sent += 1;
        await queue.sendMessage(b64(JSON.stringify({ n: sent })));
      }
    }),
  );
  console.log(
    `${queueName}: ${count} messages sent in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function drain(consumer: Consumer): Promise<number> {
  const [first] = await consumer.next("first");
  const [done] = await consumer.next("done");
  console.log(`drained in ${((Number(done) - Number(first)) / 1000).toFixed(1)} s`);
  return (COUNT - 1) / ((Number(done) - Number(first)) / 1000);
}

async function main(): Promise<void> {
  console.log(
    `bench/sdk-queue: Node ${process.version}, ${os.availableParallelism()} CPUs, Azurite (npm, in memory, LokiJS index fix preloaded)`,
  );
  const azurite = await startAzurite({
    nodeArgs: ["--import", path.join(here, "azurite-loki-fix.mjs")],
    // No access log: 30,000 lines per drain would cost Azurite more than some requests do.
    args: ["--silent"],
  });
  const consumers: Consumer[] = [];
  try {
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const idle = (who: string) => Array.from({ length: QUEUES }, (_, i) => `idle-${who}-${i}`);
    for (const name of ["drain-sdk", "drain-base", ...idle("sdk"), ...idle("base")]) {
      await service.getQueueClient(name).create();
    }
    // Each queue is filled just before it is drained: Azurite's cost per request grows with the
    // number of messages it holds in all queues.
    await fill(service, "drain-base", COUNT);

    const common = { AzureWebJobsStorage: azurite.connectionString, DRAIN_COUNT: String(COUNT) };
    const base = startConsumer("baseline-consumer.mjs", {
      ...common,
      DRAIN_QUEUE: "drain-base",
      IDLE_QUEUES: idle("base").join(","),
      BATCH_SIZE: String(BATCH_SIZE),
      IDLE_MS: String(MAX_POLLING_MS),
    });
    consumers.push(base);
    const baseRate = await drain(base);
    await fill(service, "drain-sdk", COUNT);
    // The SDK prints a line per invocation start and end, as it does in a job log: that is part of
    // its cost, so its output is read, not silenced.
    const sdk = startConsumer("sdk-consumer.mjs", {
      ...common,
      DRAIN_QUEUE: "drain-sdk",
      IDLE_QUEUES: idle("sdk").join(","),
      WEBJOBS_NAME: "bench",
    });
    consumers.push(sdk);
    const sdkRate = await drain(sdk);

    // The receive round trip of an empty queue, for the theoretical floor.
    const probe = service.getQueueClient(idle("base")[0]);
    const trips: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await probe.peekMessages();
      trips.push(performance.now() - t0);
    }
    const rtt = percentile(trips, 50);

    console.log(`idle for ${IDLE_S} s, then ${ROUNDS} rounds × ${QUEUES} queues per consumer…`);
    await sleep(IDLE_S * 1000);
    const sdkLatency: number[] = [];
    const baseLatency: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sends: Promise<unknown>[] = [];
      const stamps: { who: Consumer; key: string; sent: number; into: number[] }[] = [];
      for (let q = 0; q < QUEUES; q++) {
        for (const [who, name, into] of [
          [sdk, idle("sdk")[q], sdkLatency],
          [base, idle("base")[q], baseLatency],
        ] as const) {
          const sent = Date.now();
          const key = `${round}.${q}.${sent}`;
          stamps.push({ who, key, sent, into });
          sends.push(service.getQueueClient(name).sendMessage(b64(JSON.stringify({ sent: key }))));
        }
      }
      await Promise.all(sends);
      const deadline = Date.now() + 10_000;
      while (stamps.some((s) => !s.who.pickups.has(s.key)) && Date.now() < deadline) await sleep(10);
      for (const s of stamps) {
        const at = s.who.pickups.get(s.key);
        if (at === undefined) throw new Error(`message ${s.key} was not picked up within 10 s`);
        s.into.push(at - s.sent);
      }
      await sleep(3000 + Math.random() * 2000);
    }

    const floor = (p: number) => (p / 100) * (MAX_POLLING_MS + rtt) + rtt;
    printTable(
      `\nbench/sdk-queue: ${COUNT} messages drained; ${sdkLatency.length} idle pickups per consumer`,
      [
        ["", "webjobs-sdk", "baseline", "ratio"],
        [
          `messages/s, batch ${BATCH_SIZE}`,
          `${sdkRate.toFixed(0)} msg/s`,
          `${baseRate.toFixed(0)} msg/s`,
          (sdkRate / baseRate).toFixed(2),
        ],
        percentileRow("idle pickup, p50", sdkLatency, baseLatency, 50),
        percentileRow("idle pickup, p99", sdkLatency, baseLatency, 99),
        [
          "idle pickup, p50 floor",
          `${percentile(sdkLatency, 50).toFixed(2)} ms`,
          `${floor(50).toFixed(2)} ms`,
          (percentile(sdkLatency, 50) / floor(50)).toFixed(2),
        ],
        [
          "idle pickup, p99 floor",
          `${percentile(sdkLatency, 99).toFixed(2)} ms`,
          `${floor(99).toFixed(2)} ms`,
          (percentile(sdkLatency, 99) / floor(99)).toFixed(2),
        ],
      ],
    );
    const p99 = percentile(sdkLatency, 99);
    console.log(
      `\nbaseline: a hand-written receive/delete loop (batch ${BATCH_SIZE}, idle wait ${MAX_POLLING_MS} ms);` +
        ` floor: uniform in [0, ${MAX_POLLING_MS} ms + receive ${rtt.toFixed(1)} ms] + receive`,
    );
    console.log(
      `goals: messages/s ≥ 0.9 × baseline: ${sdkRate >= 0.9 * baseRate ? "met" : "NOT met"};` +
        ` idle pickup p99 ≤ 1 s: ${p99 <= 1000 ? "met" : "NOT met"} (${p99.toFixed(0)} ms, max ${Math.max(...sdkLatency)} ms)`,
    );
  } finally {
    await Promise.all(consumers.map((c) => c.stop()));
    await azurite.stop();
  }
}

await main();
