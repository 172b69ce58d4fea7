import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployScript, runToEnd, startHost, waitFor, type TestHost } from "../support/host.ts";

let t: TestHost;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  t = await startHost();
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      received.push({ path: request.url ?? "", body: JSON.parse(body) });
      response.statusCode = request.url === "/broken" ? 500 : 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

const subscribe = (body: unknown) =>
  t.api("/api/hooks", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("web hooks (Kudu's /api/hooks)", () => {
  it("POSTs the run JSON to subscribed URLs when a run ends, and keeps the outcome", async () => {
    const created = await subscribe({ url: `${receiverUrl}/finished`, event: "TriggeredJobFinished" });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; event: string; url: string };
    expect(hook).toMatchObject({
      event: "TriggeredJobFinished",
      url: `${receiverUrl}/finished`,
      insecure_ssl: false,
    });
    expect((await subscribe({ url: `${receiverUrl}/broken` })).status).toBe(201);

    await deployScript(t, "triggered", "hooked", "run.sh", "echo hi\nexit 2\n");
    const run = await runToEnd(t, "hooked");
    const delivered = await waitFor(() => received.find((r) => r.path === "/finished"));
    expect(delivered.body).toMatchObject({ id: run.id, job_name: "hooked", status: "Failed", exit_code: 2 });
    expect(delivered.body.output_url).toBe(run.output_url);

    const hooks = await waitFor(async () => {
      const list = (await (await t.api("/api/hooks")).json()) as {
        url: string;
        last_status: string | null;
      }[];
      return list.every((h) => h.last_status !== null) ? list : undefined;
    });
    expect(hooks.find((h) => h.url.endsWith("/finished"))).toMatchObject({
      last_status: "200",
      last_reason: null,
    });
    expect(hooks.find((h) => h.url.endsWith("/broken"))).toMatchObject({
      last_status: "500",
      last_reason: "HTTP 500",
    });

    expect((await t.api(`/api/hooks/${hook.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await t.api(`/api/hooks/${hook.id}`)).status).toBe(404);
  });

  it("refuses a duplicate, a bad URL and an unknown event", async () => {
    expect((await subscribe({ url: `${receiverUrl}/dup` })).status).toBe(201);
    const duplicate = await subscribe({ url: `${receiverUrl}/dup` });
    expect(duplicate.status).toBe(409);
    const badUrl = await subscribe({ url: "file:///etc/passwd" });
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { error: string }).error).toMatch(/"url" must be an http/);
    const badEvent = await subscribe({ url: `${receiverUrl}/x`, event: "PostDeployment" });
    expect(badEvent.status).toBe(400);
    expect(((await badEvent.json()) as { error: string }).error).toMatch(
      /"event" must be one of TriggeredJobFinished/,
    );
  });
});
