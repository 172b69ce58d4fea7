/**
 * Makes `webjobs-sdk-<version>.tgz`, which `npm install <file>` installs anywhere. The package is not
 * on npm, and it imports @webjobs/schedule, a private workspace package that is never published: so
 * the SDK's JavaScript is bundled by esbuild with @webjobs/schedule inside, while the Azure clients
 * and schedule's own dependencies stay ordinary dependencies, installed from npm as usual.
 *
 * Run from the repository root: npm run tarball -w packages/sdk   (writes packages/sdk/*.tgz;
 * `-- --out DIR` writes it elsewhere). Prints the tarball's path.
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schedule = path.resolve(sdk, "..", "schedule");
const outIndex = process.argv.indexOf("--out");
const out = path.resolve(outIndex > 0 ? process.argv[outIndex + 1]! : sdk);
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8")) as PackageJson;

// The declarations come from tsc (they never mention @webjobs/schedule); the JavaScript from esbuild.
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
for (const project of [schedule, sdk]) {
  execFileSync(process.execPath, [tsc, "-p", path.join(project, "tsconfig.build.json")], {
    stdio: "inherit",
  });
}

const own = readJson(path.join(sdk, "package.json"));
const { "@webjobs/schedule": _bundled, ...sdkDependencies } = own.dependencies ?? {};
const dependencies = { ...readJson(path.join(schedule, "package.json")).dependencies, ...sdkDependencies };

const stage = mkdtempSync(path.join(os.tmpdir(), "webjobs-sdk-pack-"));
try {
  cpSync(path.join(sdk, "dist"), path.join(stage, "dist"), {
    recursive: true,
    filter: (from) => !from.endsWith(".js") && !from.endsWith(".map") && !from.endsWith(".tsbuildinfo"),
  });
  await build({
    entryPoints: [path.join(sdk, "src", "index.ts")],
    outfile: path.join(stage, "dist", "index.js"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    external: Object.keys(dependencies),
    logLevel: "warning",
  });
  cpSync(path.join(sdk, "README.md"), path.join(stage, "README.md"));
  const { scripts: _scripts, devDependencies: _dev, ...manifest } = own;
  writeFileSync(
    path.join(stage, "package.json"),
    JSON.stringify({ ...manifest, dependencies }, null, 2) + "\n",
  );
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: stage, encoding: "utf8" }),
  ) as { filename: string }[];
  console.log(path.join(out, packed!.filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
