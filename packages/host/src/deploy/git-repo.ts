import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Commit {
  id: string;
  message: string;
  author: string;
  authorEmail: string;
}

/**
 * The site's git repository (bare, `<data>/repository.git`), pushed to over smart HTTP through
 * git's own `git http-backend`. Every pushed branch is kept; the deployment branch is deployed.
 */
export class GitRepository {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "repository.git");
  }

  /** Created on first use: a host nobody pushes to keeps no repository. */
  async ensure(): Promise<void> {
    if (existsSync(path.join(this.dir, "HEAD"))) return;
    await mkdir(this.dir, { recursive: true });
    await this.git("init", "--bare", "--quiet");
    // Pushes over HTTP need receive-pack switched on (http-backend refuses it to anonymous users
    // otherwise; ours are authenticated before git sees the request).
    await this.git("config", "http.receivepack", "true");
  }

  /** Branch name → commit id, of every branch. */
  async branches(): Promise<Map<string, string>> {
    const { stdout } = await this.git(
      "for-each-ref",
      "--format=%(refname:strip=2) %(objectname)",
      "refs/heads",
    );
    const map = new Map<string, string>();
    for (const line of stdout.split("\n")) {
      const [name, id] = line.trim().split(" ");
      if (name && id) map.set(name, id);
    }
    return map;
  }

  async commit(id: string): Promise<Commit> {
    const { stdout } = await this.git("log", "-1", "--format=%H%x00%an%x00%ae%x00%B", id);
    const [commitId, author, authorEmail, message] = stdout.split("\0");
    return { id: commitId, author, authorEmail, message: message.trim() };
  }

  /**
   * The commit's tree as a zip, so that a push deploys through the same guarded path as a zip.
   * Stored, not compressed (`-0`): the zip is read once from the local disk, and deflating
   * thousands of files only to inflate them again cost more than the bytes it saves.
   */
  async archive(id: string, zipFile: string): Promise<void> {
    await this.git("archive", "--format=zip", "-0", `--output=${zipFile}`, id);
  }

  private git(...args: string[]) {
    return run("git", ["--git-dir", this.dir, ...args], { maxBuffer: 16 * 1024 * 1024 });
  }
}
