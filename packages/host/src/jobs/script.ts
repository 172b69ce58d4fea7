import { accessSync, closeSync, constants, openSync, readdirSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse, type ParseEntry } from "shell-quote";
import { ErrorCode, WebJobsError } from "../errors.ts";

/**
 * Which file of a job folder runs, and with what (kudu-reference §2). The order and the `run.*`
 * rule are Kudu's, so a folder deployed to Azure picks the same script here.
 */

// Kudu's script hosts, in the order it tries them; `.ts` and `.jar` are ours, after Kudu's.
const EXTENSION_ORDER = [".cmd", ".bat", ".exe", ".ps1", ".sh", ".py", ".php", ".js", ".ts", ".jar"];

/**
 * Kudu's single-subfolder rule: a zip made by compressing a folder (rather than its contents)
 * holds one top-level folder, so when that is the only entry the job lives inside it.
 */
export function resolveJobRoot(dir: string): string {
  const entries = readdirSync(dir);
  if (entries.length !== 1) return dir;
  const only = path.join(dir, entries[0]);
  return statSync(only).isDirectory() ? only : dir;
}

/**
 * The script to run, relative to `root`, or null when the folder holds nothing runnable. Only
 * top-level files count, and extensions are compared without case as Windows does.
 */
export function findScript(root: string): string | null {
  const files = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isFile() || (entry.isSymbolicLink() && isFile(path.join(root, entry.name))))
    .map((entry) => entry.name)
    // Sorted once, so "the first file" below is the same on every disk and every platform.
    .sort((a, b) => compareNames(a, b));

  const rank = (name: string) => EXTENSION_ORDER.indexOf(path.extname(name).toLowerCase());
  const runnable = files.filter((name) => rank(name) >= 0);
  if (runnable.length === 0) return null;

  // A `run.<ext>` file is the author saying "this one"; the earliest host with one wins.
  const runFiles = runnable.filter((name) => path.parse(name).name.toLowerCase() === "run");
  const pool = runFiles.length > 0 ? runFiles : runnable;
  // The sort is stable, so within one extension the alphabetical order from above holds.
  return [...pool].sort((a, b) => rank(a) - rank(b))[0];
}

export interface Interpreter {
  command: string;
  args: string[];
  /** Kudu's name for the script host, shown in the run log ("Run script 'x' with script host - 'y'"). */
  hostName: string;
}

type Resolution = { interpreter: Interpreter } | { error: string };

interface PathHost {
  /** Commands to look for on PATH, best first. */
  names: string[];
  args: string[];
  hostName: string;
  /** What differs on Windows. */
  windows?: { names: string[]; args?: string[] };
}

// The hosts whose interpreter is looked up on PATH (the others are the Node running the host, or
// the script itself). Names are Kudu's, with `JavaHost` and `TypeScriptHost` ours.
const PATH_HOSTS: Record<string, PathHost> = {
  ".ps1": {
    names: ["pwsh"],
    args: ["-File"],
    hostName: "PowerShellScriptHost",
    // Windows PowerShell refuses to run scripts under its default policy; Kudu relaxes it the same way.
    windows: { names: ["pwsh", "powershell"], args: ["-ExecutionPolicy", "RemoteSigned", "-File"] },
  },
  ".sh": { names: ["bash"], args: [], hostName: "BashScriptHost" },
  // Most Linux distributions ship only `python3`; venvs and Windows often only `python`.
  ".py": {
    names: ["python3", "python"],
    args: [],
    hostName: "PythonScriptHost",
    windows: { names: ["python", "python3"] },
  },
  ".php": { names: ["php"], args: [], hostName: "PhpScriptHost" },
  ".jar": { names: ["java"], args: ["-jar"], hostName: "JavaHost" },
};

/**
 * How to run `scriptPath` (absolute) on `platform`: spawn `command` with
 * `[...args, scriptPath, ...userArgs]`. Returns `{ error }` with a sentence for the user when this
 * host cannot run the script, so a deploy can record why instead of failing at the first run.
 */
export function resolveInterpreter(
  scriptPath: string,
  platform: NodeJS.Platform = process.platform,
): Resolution {
  const ext = path.extname(scriptPath).toLowerCase();
  const host = PATH_HOSTS[ext];
  if (host) {
    const windows = platform === "win32" ? host.windows : undefined;
    const names = windows?.names ?? host.names;
    for (const name of names) {
      const command = findCommand(name, platform);
      if (command) return found({ command, args: windows?.args ?? host.args, hostName: host.hostName });
    }
    return {
      error: `The interpreter for '${ext}' scripts (${names.join(" or ")}) was not found on this host's PATH.`,
    };
  }
  switch (ext) {
    case ".cmd":
    case ".bat":
      if (platform === "win32") {
        // `/d` skips AutoRun commands from the registry; `/c` runs the script and exits.
        return found({
          command: process.env.ComSpec ?? "cmd.exe",
          args: ["/d", "/c"],
          hostName: "WindowsScriptHost",
        });
      }
      return {
        error: `'${ext}' scripts need the Windows command processor (cmd.exe), which this host (${platform}) does not have.`,
      };
    case ".exe":
      return nativeExecutable(scriptPath, platform);
    case ".js":
      // The Node running the host: it is certainly installed, and its version is known.
      return found({ command: process.execPath, args: [], hostName: "NodeScriptHost" });
    case ".ts":
      return found({
        command: process.execPath,
        args: ["--import", tsxLoader()],
        hostName: "TypeScriptHost",
      });
    default:
      return {
        error: `'${path.basename(scriptPath)}' cannot be run: no script host handles '${ext}' files.`,
      };
  }
}

const found = (interpreter: Interpreter): Resolution => ({ interpreter });

// Magic numbers of the native executables each platform can exec.
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const MACH_O = [
  [0xfe, 0xed, 0xfa, 0xce],
  [0xfe, 0xed, 0xfa, 0xcf],
  [0xce, 0xfa, 0xed, 0xfe],
  [0xcf, 0xfa, 0xed, 0xfe],
  [0xca, 0xfe, 0xba, 0xbe],
].map((bytes) => Buffer.from(bytes));

/**
 * Kudu runs `.exe` files directly. Off Windows we do the same when the file is a program this
 * system can exec (or a `#!` script, which the kernel runs), and say plainly when it is not.
 */
function nativeExecutable(scriptPath: string, platform: NodeJS.Platform): Resolution {
  const name = path.basename(scriptPath);
  if (platform === "win32") {
    // An argv wrapper around a direct exec: cmd.exe's `call` runs the program with the arguments.
    return found({
      command: process.env.ComSpec ?? "cmd.exe",
      args: ["/d", "/c", "call"],
      hostName: "WindowsScriptHost",
    });
  }
  let head: Buffer;
  try {
    head = readHead(scriptPath, 4);
  } catch (error) {
    return { error: `'${name}' cannot be read: ${(error as Error).message}` };
  }
  const native = platform === "darwin" ? MACH_O.some((magic) => head.equals(magic)) : head.equals(ELF);
  if (!native && !head.subarray(0, 2).equals(Buffer.from("#!"))) {
    const what = head.subarray(0, 2).equals(Buffer.from("MZ")) ? "a Windows program" : "not a program";
    return {
      error: `'${name}' is ${what}, which this host (${platform}) cannot run: a '.exe' here must be a native ${platform} executable or a script starting with '#!'.`,
    };
  }
  if (!isExecutable(scriptPath)) {
    return {
      error: `'${name}' is not marked executable; zips made on Windows do not carry that mark. Set it (chmod +x) before zipping, or zip on Linux or macOS.`,
    };
  }
  // The argv contract is `command [...args, scriptPath, ...userArgs]`, so the program itself
  // cannot be the command. A POSIX shell execs it in place (same pid, so the process group and
  // signals are unaffected); the user's arguments are positional parameters, never parsed.
  // The `./` keeps a bare file name from being looked up on PATH.
  return found({
    command: "/bin/sh",
    args: ["-c", 'case "$0" in */*) exec "$0" "$@";; esac; exec "./$0" "$@"'],
    hostName: "NativeExecutableHost",
  });
}

function readHead(file: string, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * tsx's loader, as a file URL for `node --import`. It is resolved from this package rather than
 * named bare, because a bare `tsx` would be looked up from the job's folder, where it is not
 * installed. The root entry registers both the ESM and the CommonJS hooks (`tsx/esm` alone cannot
 * load a `.ts` file outside a `"type": "module"` package), so a job behaves as under `tsx job.ts`:
 * `import` and `require` both work, and top-level await needs `"type": "module"`.
 */
let tsxLoaderUrl: string | undefined;
function tsxLoader(): string {
  tsxLoaderUrl ??= pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return tsxLoaderUrl;
}

// PATH lookups are cached: resolving runs for every run of every job, and PATH rarely changes.
// A miss is cached only briefly, so an interpreter installed while the host runs is picked up.
const MISS_TTL_MS = 30_000;
const commandCache = new Map<string, { path: string | null; at: number }>();

/** The absolute path of `name` on PATH, or null. Relative PATH entries are skipped: they would depend on the job's folder. */
export function findCommand(name: string, platform: NodeJS.Platform = process.platform): string | null {
  const searchPath = process.env.PATH ?? process.env.Path ?? "";
  const key = `${platform}\0${searchPath}\0${name}`;
  const cached = commandCache.get(key);
  if (cached && (cached.path !== null || Date.now() - cached.at < MISS_TTL_MS)) return cached.path;

  const suffixes = platform === "win32" ? (process.env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";") : [""];
  let result: string | null = null;
  search: for (const dir of searchPath.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      if (isFile(candidate) && isExecutable(candidate)) {
        result = candidate;
        break search;
      }
    }
  }
  commandCache.set(key, { path: result, at: Date.now() });
  return result;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Name order for "the first file": case-insensitive as on Windows, then by exact name so ties are stable. */
function compareNames(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Splits a run's argument string into argv the way a shell would (quotes and backslashes are
 * honoured) without ever running a shell. Nothing is expanded: `$HOME`, `*.txt`, `a|b` and `#1`
 * reach the job as written, because a Kudu job received them literally too.
 */
export function splitArguments(text: string): string[] {
  // A process argument is a C string: a NUL cannot be passed, so say so before any run exists.
  if (text.includes("\0")) {
    throw new WebJobsError(ErrorCode.BadRequest, "The arguments must not contain a NUL character (%00).");
  }
  let tokens: ParseEntry[];
  try {
    // Returning the reference itself keeps `$NAME` literal (shell-quote would expand it). The
    // library does not say whether braces were used, so `${NAME}` comes back as `$NAME`.
    tokens = parse(text, (name) => `$${name}`);
  } catch (error) {
    const message = `The arguments cannot be split: ${(error as Error).message}`;
    throw new WebJobsError(ErrorCode.BadRequest, message, { cause: error });
  }
  const args: string[] = [];
  for (const token of tokens) {
    if (typeof token === "string") {
      args.push(token);
    } else if ("comment" in token) {
      // shell-quote drops everything after a `#` as a comment; keep it. The comment is the raw
      // rest of the input, so it is split again, and a `#` stuck to a word stays part of it.
      const hashAt = text.length - token.comment.length - 1;
      const rest = splitArguments(token.comment);
      const first = /^\s|^$/.test(token.comment) ? "#" : `#${rest.shift() ?? ""}`;
      const glued = hashAt > 0 && !/\s/.test(text[hashAt - 1]) && args.length > 0;
      if (glued) args[args.length - 1] += first;
      else args.push(first);
      args.push(...rest);
    } else if (token.op === "glob") {
      args.push(token.pattern);
    } else {
      // An operator such as `|` or `>`: without a shell it means nothing, so it is an argument.
      args.push(token.op);
    }
  }
  return args;
}
