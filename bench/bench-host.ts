import path from "node:path";
import pino from "pino";
import { resolveConfig, type ConfigInput } from "../packages/host/src/config.ts";
import { Host } from "../packages/host/src/host.ts";

/** A silent host on a free loopback port with its data under `dir`, and its credentials. */
export async function startBenchHost(
  dir: string,
  options: ConfigInput = {},
): Promise<{ host: Host; auth: string }> {
  const config = resolveConfig(
    {
      host: "127.0.0.1",
      port: 0,
      dataDir: path.join(dir, "data"),
      username: "bench",
      password: "bench-password",
      ...options,
    },
    {},
  );
  const host = new Host(config, { log: pino({ level: "silent" }) });
  await host.start();
  return { host, auth: `Basic ${Buffer.from("bench:bench-password").toString("base64")}` };
}
