#!/usr/bin/env node
// The `webjobs` command. The sources are TypeScript, loaded through tsx so that a fresh clone
// runs with `npm install && npm start` and no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
