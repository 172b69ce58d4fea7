#!/usr/bin/env node
// The `webjobs` command: runs the compiled host (`npm run build`, done by `npm install`).
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("webjobs: the host is not built yet; run `npm run build` (or `npm install`) first.");
  process.exit(1);
}
await import(main.href);
