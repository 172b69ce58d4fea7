import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/webjobs.js");

// The Node found on the system PATH, when it is an unsupported one (these machines ship Node 20).
function olderSystemNode(): string | undefined {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) {
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
      if (Number(version.slice(1).split(".")[0]) < 22) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}
const older = olderSystemNode();

describe("supported Node versions", () => {
  it("runs on the Node running the tests", () => {
    const major = Number(process.versions.node.split(".")[0]);
    expect(major === 22 || major >= 24).toBe(true);
    const result = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    const { version } = JSON.parse(readFileSync(path.join(bin, "../../package.json"), "utf8")) as {
      version: string;
    };
    expect(result.stdout.trim()).toBe(`${version} (Node.js ${process.versions.node})`);
  });

  it.runIf(older)("says plainly that an older Node is not supported, without a stack trace", () => {
    const result = spawnSync(older!, [bin, "serve", "--port", "0"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^webjobs: Node\.js 2\d\.\d+\.\d+ is not supported\. .*Node\.js 24/);
    expect(result.stderr).not.toMatch(/ at /);
    expect(result.stdout).toBe("");
  });
});
