import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, type ViteDevServer } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PASSWORD, startHost, USER, type TestHost } from "../support/host.ts";

/**
 * The README's live-reload setup: Vite's dev server (packages/dashboard/vite.config.ts) sends /api
 * to a running host. The pages it serves post with its own origin, which the host's cross-site
 * protection refused (403 on logging in, so the dashboard could not be used there); another
 * site's post through it must still be refused.
 */
const dashboard = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../dashboard");
let t: TestHost;
let vite: ViteDevServer;
let devUrl: string;

beforeAll(async () => {
  t = await startHost();
  const previous = process.env.WEBJOBS_URL;
  process.env.WEBJOBS_URL = t.url; // read by the config file when it loads
  try {
    vite = await createServer({
      root: dashboard,
      configFile: path.join(dashboard, "vite.config.ts"),
      logLevel: "silent",
      server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
    });
  } finally {
    if (previous === undefined) delete process.env.WEBJOBS_URL;
    else process.env.WEBJOBS_URL = previous;
  }
  await vite.listen();
  devUrl = vite.resolvedUrls!.local[0]!.replace(/\/$/, "");
}, 30_000);

afterAll(async () => {
  await vite?.close();
  await t?.stop();
});

const login = (origin: string, site: string): Promise<Response> =>
  fetch(`${devUrl}/api/session`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`,
      origin,
      "sec-fetch-site": site,
    },
  });

it("lets the pages it serves log in and change state through it, and still refuses other sites", async () => {
  expect(new URL(devUrl).port).not.toBe(new URL(t.url).port);
  const own = await login(devUrl, "same-origin");
  expect(own.status).toBe(201);
  expect(((await own.json()) as { name: string }).name).toBe(USER);

  const foreign = await login("https://elsewhere.example", "cross-site");
  expect(foreign.status).toBe(403);
  expect(((await foreign.json()) as { code: string }).code).toBe("cross_site_request");
});
