import type { WriteStream } from "node:fs";
import type { SiteUploads } from "../jobs/site-uploads.ts";

/**
 * The uploads of one FTP connection, reported to the site watcher through SiteUploads: an upload
 * is open from the moment ftp-srv opens its file until every byte is written (`finish`), or it
 * fails (`error`), or it is destroyed (`close` on a destroyed stream).
 *
 * ftp-srv's STOR emits a `close` of its own on the stream when the data connection ends, *before*
 * the last bytes are flushed; that one is ignored (the stream is not destroyed yet), and `finish`
 * follows it. A data connection that just disappears (ABOR, a dropped control connection) ends
 * nothing in ftp-srv: `abandon()` (called when the client disconnects) destroys such streams, so
 * that a dead client never holds a job folder back, and its file descriptors are freed.
 */
export class ConnectionUploads {
  private readonly streams = new Set<WriteStream>();

  constructor(private readonly uploads: SiteUploads) {}

  track(stream: WriteStream): void {
    const release = this.uploads.begin(String(stream.path));
    this.streams.add(stream);
    const done = () => {
      this.streams.delete(stream);
      release();
    };
    stream.once("finish", done);
    stream.once("error", done);
    stream.on("close", () => {
      if (stream.destroyed) done();
    });
  }

  /** The client has gone: uploads it left unfinished will never finish. */
  abandon(): void {
    for (const stream of this.streams) {
      if (!stream.writableEnded) stream.destroy();
    }
  }
}
