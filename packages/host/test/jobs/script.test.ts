import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, WebJobsError } from "../../src/errors.ts";
import {
  findCommand,
  findScript,
  resolveInterpreter,
  resolveJobRoot,
  splitArguments,
  type Interpreter,
} from "../../src/jobs/script.ts";

let dir: string;
const savedPath = process.env.PATH;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "webjobs-script-"));
});

afterEach(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

function files(root: string, names: string[]): void {
  for (const name of names) {
    const full = path.join(root, name);
    mkdirSync(path.dirname(full), { recursive: true });
    if (name.endsWith("/")) mkdirSync(full, { recursive: true });
    else writeFileSync(full, "");
  }
}

function interpreterFor(file: string, platform?: NodeJS.Platform): Interpreter {
  const resolved = resolveInterpreter(file, platform);
  if ("error" in resolved) throw new Error(resolved.error);
  return resolved.interpreter;
}

function errorFor(file: string, platform?: NodeJS.Platform): string {
  const resolved = resolveInterpreter(file, platform);
  if (!("error" in resolved))
    throw new Error(`expected an error, got ${JSON.stringify(resolved.interpreter)}`);
  return resolved.error;
}

/** Runs a script the way the host does: `command [...args, script, ...userArgs]`, from its folder. */
function run(script: string, userArgs: string[] = []) {
  const { command, args } = interpreterFor(script);
  const result = spawnSync(command, [...args, script, ...userArgs], {
    cwd: path.dirname(script),
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A folder holding executables named `names`, each a shell script that prints its name and arguments. */
function fakeBin(names: string[]): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const name of names) {
    writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name}" "$@"\n`, { mode: 0o755 });
  }
  return bin;
}

describe("resolveJobRoot", () => {
  it("descends into a single top-level folder", () => {
    files(dir, ["job/run.sh"]);
    expect(resolveJobRoot(dir)).toBe(path.join(dir, "job"));
  });

  it("descends one level only", () => {
    files(dir, ["outer/inner/run.sh"]);
    expect(resolveJobRoot(dir)).toBe(path.join(dir, "outer"));
  });

  it("stays when the single entry is a file", () => {
    files(dir, ["run.sh"]);
    expect(resolveJobRoot(dir)).toBe(dir);
  });

  it("stays when there is more than one entry", () => {
    files(dir, ["job/run.sh", "readme.txt"]);
    expect(resolveJobRoot(dir)).toBe(dir);
    files(dir, ["other/"]);
    rmSync(path.join(dir, "readme.txt"));
    expect(resolveJobRoot(dir)).toBe(dir);
  });

  it("stays in an empty folder", () => {
    expect(resolveJobRoot(dir)).toBe(dir);
  });
});

describe("findScript", () => {
  const cases: Array<{ title: string; names: string[]; expected: string | null }> = [
    { title: "run.* beats an earlier extension", names: ["a.cmd", "run.py"], expected: "run.py" },
    {
      title: "the earliest host with a run.* wins",
      names: ["run.js", "run.sh", "run.py"],
      expected: "run.sh",
    },
    {
      title: "run.cmd before run.bat before run.exe",
      names: ["run.exe", "run.bat", "run.cmd"],
      expected: "run.cmd",
    },
    {
      title: "without run.*, the earliest extension wins",
      names: ["a.js", "b.py", "c.sh", "d.php"],
      expected: "c.sh",
    },
    { title: ".cmd before .bat before .exe", names: ["a.exe", "b.bat", "z.cmd"], expected: "z.cmd" },
    { title: ".ps1 after .exe", names: ["b.ps1", "a.exe"], expected: "a.exe" },
    { title: ".js before .ts", names: ["a.ts", "b.js"], expected: "b.js" },
    { title: ".ts before .jar", names: ["a.jar", "b.ts"], expected: "b.ts" },
    { title: "within one extension the first name wins", names: ["b.py", "a.py", "c.py"], expected: "a.py" },
    { title: "names are compared without case", names: ["B.py", "a.py", "C.py"], expected: "a.py" },
    { title: "extensions are matched without case", names: ["job.PY", "other.txt"], expected: "job.PY" },
    { title: "RUN.SH counts as run.*", names: ["a.sh", "RUN.SH"], expected: "RUN.SH" },
    { title: "run.* of an unknown extension is ignored", names: ["run.txt", "job.sh"], expected: "job.sh" },
    {
      title: "a name like run.backup.sh is not run.*",
      names: ["run.backup.sh", "a.py"],
      expected: "run.backup.sh",
    },
    { title: "nothing runnable", names: ["readme.md", "settings.job"], expected: null },
    { title: "only top-level files count", names: ["sub/run.sh", "notes.txt"], expected: null },
    {
      title: "a folder named like a script is not a script",
      names: ["run.sh/", "job.py"],
      expected: "job.py",
    },
    {
      title: "settings.job and friends do not get in the way",
      names: ["settings.job", "run.js"],
      expected: "run.js",
    },
  ];
  for (const { title, names, expected } of cases) {
    it(title, () => {
      files(dir, names);
      expect(findScript(dir)).toBe(expected);
    });
  }
});

describe("resolveInterpreter", () => {
  it("runs .sh with bash", () => {
    const script = path.join(dir, "run.sh");
    writeFileSync(script, 'echo "bash says: $1|$2 (${BASH_VERSION:+bash})"\n');
    expect(interpreterFor(script).hostName).toBe("BashScriptHost");
    expect(path.basename(interpreterFor(script).command)).toBe("bash");
    expect(run(script, ["one two", "$HOME"])).toEqual({
      status: 0,
      stdout: "bash says: one two|$HOME (bash)\n",
      stderr: "",
    });
  });

  it("runs .py with python3", () => {
    const script = path.join(dir, "job.py");
    writeFileSync(script, "import sys\nprint('python says:', sys.argv[1:], sys.version_info[0])\n");
    const interpreter = interpreterFor(script);
    expect(interpreter.hostName).toBe("PythonScriptHost");
    expect(path.basename(interpreter.command)).toBe("python3");
    expect(run(script, ["a b"])).toEqual({ status: 0, stdout: "python says: ['a b'] 3\n", stderr: "" });
  });

  it("runs .js with the Node running the host", () => {
    const script = path.join(dir, "job.js");
    writeFileSync(script, "console.log('node says', process.argv.slice(2).join(','));\n");
    expect(interpreterFor(script)).toEqual({
      command: process.execPath,
      args: [],
      hostName: "NodeScriptHost",
    });
    expect(run(script, ["x", "y"])).toMatchObject({ status: 0, stdout: "node says x,y\n" });
  });

  it("runs .ts with Node and tsx's loader, from a folder where tsx is not installed", () => {
    const script = path.join(dir, "job.ts");
    writeFileSync(
      script,
      [
        'import path from "node:path";',
        "interface Greeting { who: string }",
        "const greeting: Greeting = { who: process.argv[2] ?? 'nobody' };",
        "console.log(`ts says hello ${greeting.who} from ${path.basename(process.argv[1])}`);",
      ].join("\n"),
    );
    const interpreter = interpreterFor(script);
    expect(interpreter.command).toBe(process.execPath);
    expect(interpreter.args[0]).toBe("--import");
    expect(interpreter.args[1]).toMatch(/^file:\/\/.*tsx/);
    expect(interpreter.hostName).toBe("TypeScriptHost");
    expect(run(script, ["world"])).toEqual({
      status: 0,
      stdout: "ts says hello world from job.ts\n",
      stderr: "",
    });
  });

  it("runs a CommonJS-style .ts job too", () => {
    const script = path.join(dir, "job.ts");
    writeFileSync(
      script,
      'const os = require("node:os");\nconst n: number = 1;\nconsole.log("cjs", typeof os.cpus, n);\n',
    );
    expect(run(script)).toMatchObject({ status: 0, stdout: "cjs function 1\n" });
  });

  it("runs a .ts job with top-level await when its package.json says it is a module, as tsx does", () => {
    writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }');
    const script = path.join(dir, "job.ts");
    writeFileSync(script, "const value: string = await Promise.resolve('awaited');\nconsole.log(value);\n");
    expect(run(script)).toMatchObject({ status: 0, stdout: "awaited\n" });
  });

  it("finds interpreters on PATH, skipping files that are not executable", () => {
    const bin = fakeBin(["php", "java", "pwsh"]);
    // A non-executable `python3` earlier on PATH must be passed over for the real one later.
    const decoy = path.join(dir, "decoy");
    mkdirSync(decoy);
    writeFileSync(path.join(decoy, "php"), "not executable", { mode: 0o644 });
    process.env.PATH = [decoy, "relative/bin", bin].join(path.delimiter);

    const php = path.join(dir, "job.php");
    writeFileSync(php, "<?php echo 1;");
    expect(interpreterFor(php)).toEqual({
      command: path.join(bin, "php"),
      args: [],
      hostName: "PhpScriptHost",
    });
    expect(run(php, ["arg"]).stdout).toBe(`php ${php} arg\n`);

    const jar = path.join(dir, "job.jar");
    writeFileSync(jar, "");
    expect(interpreterFor(jar)).toEqual({
      command: path.join(bin, "java"),
      args: ["-jar"],
      hostName: "JavaHost",
    });
    expect(run(jar, ["x"]).stdout).toBe(`java -jar ${jar} x\n`);

    const ps1 = path.join(dir, "job.ps1");
    writeFileSync(ps1, "");
    expect(interpreterFor(ps1)).toEqual({
      command: path.join(bin, "pwsh"),
      args: ["-File"],
      hostName: "PowerShellScriptHost",
    });
  });

  it("falls back to `python` when there is no `python3`", () => {
    process.env.PATH = fakeBin(["python"]);
    const script = path.join(dir, "job.py");
    writeFileSync(script, "");
    expect(interpreterFor(script).command).toBe(path.join(dir, "bin", "python"));
    expect(findCommand("python3")).toBeNull();
  });

  it("says which interpreter is missing", () => {
    process.env.PATH = fakeBin([]);
    const expected: Record<string, string> = {
      ".php": "The interpreter for '.php' scripts (php) was not found on this host's PATH.",
      ".py": "The interpreter for '.py' scripts (python3 or python) was not found on this host's PATH.",
      ".sh": "The interpreter for '.sh' scripts (bash) was not found on this host's PATH.",
      ".ps1": "The interpreter for '.ps1' scripts (pwsh) was not found on this host's PATH.",
      ".jar": "The interpreter for '.jar' scripts (java) was not found on this host's PATH.",
    };
    for (const [ext, message] of Object.entries(expected)) {
      expect(errorFor(path.join(dir, `job${ext}`), "linux")).toBe(message);
    }
  });

  it("refuses .cmd and .bat off Windows", () => {
    expect(errorFor(path.join(dir, "run.cmd"), "linux")).toBe(
      "'.cmd' scripts need the Windows command processor (cmd.exe), which this host (linux) does not have.",
    );
    expect(errorFor(path.join(dir, "RUN.BAT"), "darwin")).toBe(
      "'.bat' scripts need the Windows command processor (cmd.exe), which this host (darwin) does not have.",
    );
  });

  it("refuses an unknown extension", () => {
    expect(errorFor(path.join(dir, "notes.txt"))).toBe(
      "'notes.txt' cannot be run: no script host handles '.txt' files.",
    );
  });

  describe.skipIf(process.platform !== "linux")(".exe (with a real ELF program)", () => {
    it("runs a native executable directly, with the arguments untouched", () => {
      const exe = path.join(dir, "tool.exe");
      copyFileSync("/bin/echo", exe);
      chmodSync(exe, 0o755);
      expect(interpreterFor(exe, "linux").hostName).toBe("NativeExecutableHost");
      expect(run(exe, ["hello", "$HOME", "a b", "*"])).toEqual({
        status: 0,
        stdout: "hello $HOME a b *\n",
        stderr: "",
      });
    });

    it("runs a '#!' script named .exe", () => {
      const exe = path.join(dir, "tool.exe");
      writeFileSync(exe, '#!/bin/sh\necho "script $#: $1"\n', { mode: 0o755 });
      expect(run(exe, ["x y"])).toEqual({ status: 0, stdout: "script 1: x y\n", stderr: "" });
    });

    it("runs a native executable given by a bare name from its folder, not from PATH", () => {
      copyFileSync("/bin/echo", path.join(dir, "echo.exe"));
      chmodSync(path.join(dir, "echo.exe"), 0o755);
      const { command, args } = interpreterFor(path.join(dir, "echo.exe"), "linux");
      const result = spawnSync(command, [...args, "echo.exe", "bare"], { cwd: dir, encoding: "utf8" });
      expect(result.stdout).toBe("bare\n");
    });

    it("refuses an executable without the executable bit", () => {
      const exe = path.join(dir, "tool.exe");
      copyFileSync("/bin/echo", exe);
      chmodSync(exe, 0o644);
      expect(errorFor(exe, "linux")).toBe(
        "'tool.exe' is not marked executable; zips made on Windows do not carry that mark. Set it (chmod +x) before zipping, or zip on Linux or macOS.",
      );
    });

    it("refuses a Windows program", () => {
      const exe = path.join(dir, "win.exe");
      writeFileSync(exe, Buffer.concat([Buffer.from("MZ"), Buffer.alloc(100)]), { mode: 0o755 });
      expect(errorFor(exe, "linux")).toBe(
        "'win.exe' is a Windows program, which this host (linux) cannot run: a '.exe' here must be a native linux executable or a script starting with '#!'.",
      );
    });

    it("refuses a file that is no program at all", () => {
      const exe = path.join(dir, "odd.exe");
      writeFileSync(exe, "hello", { mode: 0o755 });
      expect(errorFor(exe, "linux")).toBe(
        "'odd.exe' is not a program, which this host (linux) cannot run: a '.exe' here must be a native linux executable or a script starting with '#!'.",
      );
    });

    it("refuses an ELF program on macOS", () => {
      const exe = path.join(dir, "tool.exe");
      copyFileSync("/bin/echo", exe);
      expect(errorFor(exe, "darwin")).toMatch(
        /^'tool.exe' is not a program, which this host \(darwin\) cannot run/,
      );
    });

    it("says when the file cannot be read", () => {
      expect(errorFor(path.join(dir, "missing.exe"), "linux")).toMatch(
        /^'missing.exe' cannot be read: ENOENT/,
      );
    });
  });
});

describe("splitArguments", () => {
  const cases: Array<[string, string[]]> = [
    ["", []],
    ["   ", []],
    ["a b  c", ["a", "b", "c"]],
    [`"a b" 'c d'`, ["a b", "c d"]],
    [`--name="John Smith" -v`, ["--name=John Smith", "-v"]],
    [`a\\ b`, ["a b"]],
    [`''`, [""]],
    [`"it's"`, ["it's"]],
    // Nothing is expanded: variables, globs, `~` and operators reach the job as written.
    [`$HOME "$USER" '$X' \${PATH}`, ["$HOME", "$USER", "$X", "$PATH"]],
    [`*.txt file?`, ["*.txt", "file?"]],
    [`~/x`, ["~/x"]],
    [`a | b > out.txt`, ["a", "|", "b", ">", "out.txt"]],
    [`x && y; z`, ["x", "&&", "y", ";", "z"]],
    // `#` is not a comment.
    [`--tag #1 more`, ["--tag", "#1", "more"]],
    [`issue#12 "quoted #"`, ["issue#12", "quoted #"]],
    [`a # "b c"`, ["a", "#", "b c"]],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => {
      expect(splitArguments(text)).toEqual(expected);
    });
  }

  it("refuses text the splitter cannot read", () => {
    let caught: unknown;
    try {
      splitArguments("x=${}");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebJobsError);
    expect((caught as WebJobsError).code).toBe(ErrorCode.BadRequest);
    expect((caught as WebJobsError).message).toBe("The arguments cannot be split: Bad substitution: ${}");
  });
});
