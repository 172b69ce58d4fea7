import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** A longer line is cut into pieces of this size, so one endless line cannot exhaust memory. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * Calls `onLine` for every line of a stream (without its `\n` or `\r\n`), decoding UTF-8 across
 * chunk boundaries and keeping a last line that has no newline. Resolves when the stream ends.
 */
export function onLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const emit = (line: string) => onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
  const push = (text: string) => {
    pending += text;
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    while (pending.length > MAX_LINE_LENGTH) {
      onLine(pending.slice(0, MAX_LINE_LENGTH));
      pending = pending.slice(MAX_LINE_LENGTH);
    }
  };
  return new Promise((resolve) => {
    stream.on("data", (chunk: Buffer) => push(decoder.write(chunk)));
    const finish = () => {
      push(decoder.end());
      if (pending.length > 0) emit(pending);
      pending = "";
      resolve();
    };
    stream.once("end", finish);
    stream.once("error", finish);
  });
}
