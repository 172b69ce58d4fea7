#!/usr/bin/env node
// The `webjobs` command: runs the compiled host (`npm run build`, done by `npm install`).
// Kept to syntax every Node can parse, so that an unsupported Node gets a sentence, not a crash.
import { existsSync } from "node:fs";

// Supported: Node 22 (22.22 or later) and Node 24 or later, as `engines` in package.json says.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 22) || major === 23) {
  console.error(
    `webjobs: Node.js ${process.versions.node} is not supported. ` +
      "webjobs runs on Node.js 24 (active LTS) or 22.22 and later (maintenance LTS); " +
      "Node.js 20 reached its end of life in April 2026. Install a supported Node.js and run `npm install` again.",
  );
  process.exit(1);
}

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("webjobs: the host is not built yet; run `npm run build` (or `npm install`) first.");
  process.exit(1);
}
await import(main.href);
