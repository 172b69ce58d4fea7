import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { ErrorCode, WebJobsError } from "../errors.ts";
import type { HostPaths } from "../paths.ts";
import type { JobType } from "../store/types.ts";
import { copyTree } from "./copy-tree.ts";
import { findScript, resolveInterpreter, resolveJobRoot } from "./script.ts";
import { readSettingsFile, type JobSettings } from "./settings.ts";
import { extractZip, type ZipLimits } from "./zip.ts";

/** What a deploy brings: an uploaded zip, a single uploaded script, or a folder on disk. */
export type PackageSource =
  | { kind: "zip"; path: string }
  | { kind: "file"; path: string; filename: string }
  | {
      kind: "dir";
      path: string;
      /**
       * A copy of the folder the caller already made under `<data>/tmp` (a site deploy writes its
       * jobs' files twice while unpacking), moved in instead of copied again, and the fingerprint
       * of the folder when that copy was made.
       */
      prepared?: { dir: string; fingerprint: string };
    };

export interface InstalledVersion {
  version: string;
  dir: string;
  /** Script path relative to the version folder, e.g. `run.sh` or `app/run.py`. */
  script: string;
  settings: JobSettings;
  /** Why it cannot run here (missing interpreter), or null. */
  error: string | null;
  /** Kudu's way to keep a continuous job stopped: a `disable.job` file beside the script. */
  disabled: boolean;
}

/**
 * Version ids sort by install time; the random tail keeps two installs in one millisecond apart.
 * A new id always sorts after the job's current one, even if the clock went back: collecting old
 * versions relies on it (see JobRegistry.collectVersions).
 */
function newVersionId(current: string | null): string {
  const currentTime = current ? parseInt(current.split("-")[0], 36) : NaN;
  const time = Number.isFinite(currentTime) ? Math.max(Date.now(), currentTime + 1) : Date.now();
  return `${time.toString(36).padStart(9, "0")}-${randomBytes(3).toString("hex")}`;
}

/** The longest file name Linux and macOS file systems take (NAME_MAX), in bytes. */
const MAX_FILE_NAME_BYTES = 255;

export function checkUploadFileName(filename: string): void {
  const bytes = Buffer.byteLength(filename);
  if (bytes > MAX_FILE_NAME_BYTES) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid file name '${filename.slice(0, 32)}…' in Content-Disposition: a file name may have at most ${MAX_FILE_NAME_BYTES} bytes, this one has ${bytes}.`,
    );
  }
  if (
    !filename ||
    filename === "." ||
    filename === ".." ||
    /[/\\\0]/.test(filename) ||
    /^[A-Za-z]:/.test(filename)
  ) {
    throw new WebJobsError(
      ErrorCode.BadRequest,
      `Invalid file name '${filename}' in Content-Disposition: it must be a plain file name without folders.`,
    );
  }
}

/**
 * Unpacks a package into a staging folder, checks it, and only then moves it into place as a new
 * immutable version. Anything that fails leaves no trace: the staging folder is removed and the
 * current version is never touched.
 *
 * `copyTo`, for a zip: a folder (existing, empty, owned by the caller, who removes it if this
 * throws) that gets a second copy of the files as they are unpacked, e.g. the next site folder.
 */
export async function installPackage(
  paths: HostPaths,
  type: JobType,
  name: string,
  source: PackageSource,
  limits: ZipLimits,
  currentVersion: string | null = null,
  copyTo?: string,
): Promise<InstalledVersion> {
  await mkdir(paths.tmp, { recursive: true });
  const staging = await mkdtemp(path.join(paths.tmp, "install-"));
  try {
    const content = path.join(staging, "content");
    if (source.kind === "dir" && source.prepared) await rename(source.prepared.dir, content);
    else if (source.kind === "dir") await copyTree(source.path, content);
    else await mkdir(content);
    if (source.kind === "zip") {
      await extractZip(source.path, content, limits, {
        alsoTo: copyTo === undefined ? undefined : (relative) => path.join(copyTo, relative),
      });
    } else if (source.kind === "file") {
      checkUploadFileName(source.filename);
      await rename(source.path, path.join(content, source.filename));
    }

    const root = resolveJobRoot(content);
    const script = findScript(root);
    if (!script) throw new WebJobsError(ErrorCode.NoRunnableScript, "No runnable script file was found.");
    const settings = readSettingsFile(root);
    const interpreter = resolveInterpreter(path.join(root, script));
    const disabled = existsSync(path.join(root, "disable.job"));
    const scriptRelative = path.relative(content, path.join(root, script)).split(path.sep).join("/");

    const version = newVersionId(currentVersion);
    const dir = paths.version(type, name, version);
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(content, dir);
    return {
      version,
      dir,
      script: scriptRelative,
      settings,
      error: "error" in interpreter ? interpreter.error : null,
      disabled,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
