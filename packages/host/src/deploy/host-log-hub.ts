import { EventEmitter } from "node:events";
import { Writable } from "node:stream";

/**
 * A tap on the host's own log for the log stream: pino writes JSON lines here too (a multistream),
 * and followers get each one. Holds nothing: with no follower a line costs one emit.
 */
export class HostLogHub extends Writable {
  readonly lines = new EventEmitter<{ line: [text: string] }>();

  constructor() {
    super({ decodeStrings: false });
    this.lines.setMaxListeners(0);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.lines.listenerCount("line") > 0) {
      for (const line of String(chunk).split("\n")) if (line) this.lines.emit("line", line);
    }
    callback();
  }
}
