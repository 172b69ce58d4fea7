import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployZip, makeZip, startHost, waitFor, type TestHost } from "../../host/test/support/host.ts";
import { startAzurite, type Azurite } from "./support/azurite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The way the README tells users to ship a job: one file bundled with esbuild (the SDK and the Azure
 * clients inside), so the version folder needs no node_modules.
 */
async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    write: false,
    alias: { "webjobs-sdk": path.join(here, "..", "src", "index.ts") },
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe("a job using the SDK, as a continuous job under a real host", () => {
  let azurite: Azurite;
  let t: TestHost;

  beforeAll(async () => {
    azurite = await startAzurite();
    // Jobs inherit the host's environment: the connection reaches the job like an app setting.
    process.env.AzureWebJobsStorage = azurite.connectionString;
    t = await startHost();
  });

  afterAll(async () => {
    await t?.stop();
    await azurite?.stop();
    delete process.env.AzureWebJobsStorage;
  });

  it("runs queue messages, and the host shows using_sdk, functions and invocations with their logs", async () => {
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient("images");
    await queue.createIfNotExists();
    const script = await bundle(path.join(here, "fixtures", "host-job.mjs"));
    const zip = await makeZip({ "run.js": script, "package.json": '{ "type": "module" }' });
    expect((await deployZip(t, "continuous", "thumbs", zip)).status).toBeLessThan(300);

    const functions = await waitFor(
      async () => {
        const response = await t.api("/api/continuouswebjobs/thumbs/functions");
        const body = (await response.json()) as { name: string; trigger: string }[];
        return response.ok && body.length > 0 ? body : undefined;
      },
      20_000,
      "the SDK's functions",
    );
    expect(functions[0]).toMatchObject({ name: "thumbnails", trigger: "queue" });
    const job = (await (await t.api("/api/continuouswebjobs/thumbs")).json()) as { using_sdk: boolean };
    expect(job.using_sdk).toBe(true);

    const sent = await queue.sendMessage(Buffer.from(JSON.stringify({ name: "cat" })).toString("base64"));
    await queue.sendMessage(Buffer.from(JSON.stringify({ name: "broken" })).toString("base64"));
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient("thumbs")
      .getBlobClient("cat.txt");
    await waitFor(() => blob.exists(), 15_000, "the output blob");
    expect((await blob.downloadToBuffer()).toString()).toBe("thumb of cat");

    type Invocation = {
      id: string;
      status: string;
      duration_ms: number;
      trigger_details: Record<string, unknown>;
      arguments: Record<string, string>;
      error: string | null;
      log_url: string;
    };
    const invocations = await waitFor(
      async () => {
        const list = (await (
          await t.api("/api/continuouswebjobs/thumbs/functions/thumbnails/invocations")
        ).json()) as Invocation[];
        return list.filter((i) => i.status !== "Running").length >= 2 ? list : undefined;
      },
      15_000,
      "two finished invocations",
    );
    const ok = invocations.find((i) => i.trigger_details.message_id === sent.messageId)!;
    expect(ok).toMatchObject({ status: "Succeeded", error: null, trigger_details: { dequeue_count: 1 } });
    expect(ok.arguments.trigger).toBe('{"name":"cat"}');
    const log = await (await t.api(new URL(ok.log_url).pathname)).text();
    expect(log).toMatch(/making a thumbnail of cat/);
    const failed = invocations.find((i) => i.status === "Failed")!;
    expect(failed.error).toMatch(/cannot read the image/);

    const [summary] = (await (await t.api("/api/continuouswebjobs/thumbs/functions")).json()) as {
      invocations: { total: number; succeeded: number; failed: number };
      last_invocation: string;
    }[];
    expect(summary!.invocations.succeeded).toBeGreaterThanOrEqual(1);
    expect(summary!.invocations.failed).toBeGreaterThanOrEqual(1);

    // Caused by: the blob the queue function wrote triggered the blob function; the host links both
    // ways from the SDK's records (the message body and the blob content are left as written).
    type Linked = { id: string; parent_id: string | null; parent: { id: string; function: string } | null };
    const child = await waitFor(
      async () => {
        const list = (await (
          await t.api("/api/continuouswebjobs/thumbs/functions/thumbnailSize/invocations")
        ).json()) as (Linked & { trigger_details: Record<string, unknown> })[];
        return list.find((i) => i.trigger_details.blob_name === "thumbs/cat.txt");
      },
      15_000,
      "the blob function's invocation",
    );
    expect(child.parent_id).toBe(ok.id);
    expect(child.parent).toEqual({ id: ok.id, function: "thumbnails" });
    const parents = (await (
      await t.api("/api/continuouswebjobs/thumbs/functions/thumbnails/invocations")
    ).json()) as (Linked & { children: { id: string; function: string }[] })[];
    const parent = parents.find((i) => i.id === ok.id)!;
    expect(parent.parent_id).toBeNull();
    expect(parent.children).toEqual([{ id: child.id, function: "thumbnailSize" }]);

    // The host stops it the Kudu way (shutdown file, then SIGTERM); the SDK leaves cleanly.
    expect((await t.api("/api/continuouswebjobs/thumbs/stop", { method: "POST" })).ok).toBe(true);
    const jobLog = await waitFor(
      async () => {
        const text = await (await t.api("/api/continuouswebjobs/thumbs/log")).text();
        return /webjobs-sdk: stopped/.test(text) ? text : undefined;
      },
      15_000,
      "the SDK's stop in the job log",
    );
    expect(jobLog).toMatch(/stopping \(shutdown file\)/);
  });
});
