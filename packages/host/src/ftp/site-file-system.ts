import { realpathSync, type WriteStream } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { FileSystem, type FtpConnection } from "ftp-srv";
import type { ConnectionUploads } from "./upload-tracking.ts";

/** A refused operation: ftp-srv answers it with its code (550) and message. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly code = 550,
  ) {
    super(message);
  }
}

/**
 * The site folder as an FTP client sees it. ftp-srv's own file system already keeps paths under
 * its root lexically (`..` is normalised against `/`); this adds what it does not check: a symbolic
 * link inside the site that leads outside it, and the reader role, for whom every write is refused
 * here as well as by the command blacklist (ftp-srv.ts).
 */
export class SiteFileSystem extends FileSystem {
  private readonly realRoot: string;

  constructor(
    connection: FtpConnection,
    root: string,
    private readonly writable: boolean,
    /** Reports open uploads to the site watcher, which waits for them (jobs/site-uploads.ts). */
    private readonly uploads: ConnectionUploads | null = null,
  ) {
    super(connection, { root, cwd: "/" });
    this.realRoot = realpathSync(root);
  }

  override async get(fileName: string): Promise<unknown> {
    await this.inside(fileName);
    return super.get(fileName);
  }

  override async list(folder = "."): Promise<unknown> {
    await this.inside(folder);
    return super.list(folder);
  }

  override async chdir(folder = "."): Promise<string> {
    await this.inside(folder);
    return super.chdir(folder);
  }

  override async read(fileName: string, options: { start?: number } = {}): Promise<unknown> {
    await this.inside(fileName);
    return super.read(fileName, options);
  }

  override async write(
    fileName: string,
    options: { append?: boolean; start?: number } = {},
  ): Promise<unknown> {
    await this.writableInside(fileName);
    const opened = (await super.write(fileName, options)) as { stream: WriteStream; clientPath: string };
    this.uploads?.track(opened.stream);
    return opened;
  }

  override async delete(target: string): Promise<unknown> {
    await this.writableInside(target);
    return super.delete(target);
  }

  override async mkdir(folder: string): Promise<unknown> {
    await this.writableInside(folder);
    await super.mkdir(folder);
    // ftp-srv answers with the path on disk; the client gets its own path, not where the site lives.
    return path.posix.resolve(this.currentDirectory(), folder.replace(/\\/g, "/"));
  }

  override async rename(from: string, to: string): Promise<unknown> {
    await this.writableInside(from);
    await this.writableInside(to);
    return super.rename(from, to);
  }

  override async chmod(target: string, mode: string): Promise<unknown> {
    await this.writableInside(target);
    return super.chmod(target, mode);
  }

  private async writableInside(clientPath: string): Promise<void> {
    if (!this.writable) throw new Refusal("Permission denied: a reader may only read.");
    await this.inside(clientPath);
  }

  /** The deepest existing ancestor of the path (itself included) must really be in the site. */
  private async inside(clientPath: string): Promise<void> {
    const full = this.fsPath(clientPath);
    let probe = full;
    for (;;) {
      const exists = await lstat(probe).then(
        () => true,
        () => false,
      );
      if (exists || probe === this.root) break;
      const parent = path.dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
    let real: string;
    try {
      real = realpathSync(probe);
    } catch {
      throw new Refusal("No such file (a broken link).");
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + path.sep)) {
      throw new Refusal("No such file: the path leads outside the site.");
    }
  }

  /** The path on disk, as ftp-srv resolves it (cwd, `/` or `\`, normalised under the root). */
  private fsPath(clientPath: string): string {
    const joined = path.posix.isAbsolute(clientPath.replace(/\\/g, "/"))
      ? path.posix.normalize(clientPath.replace(/\\/g, "/"))
      : path.posix.join("/", this.currentDirectory(), clientPath.replace(/\\/g, "/"));
    return path.resolve(path.join(this.root, joined));
  }
}
