import type {
  FunctionInput,
  FunctionOutput,
  StorageBlobIoOptions,
  StorageQueueOutputOptions,
  TableInputOptions,
  TableOutputOptions,
} from "./types.ts";

let counter = 0;
/** Bindings get unique names, as `@azure/functions` does, so several of one type can coexist. */
function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

export const input = {
  table(options: TableInputOptions): FunctionInput {
    if (options.rowKey !== undefined && (options.take !== undefined || options.filter !== undefined)) {
      throw new Error("webjobs-sdk: input.table: rowKey cannot be combined with take or filter");
    }
    return { kind: "input", type: "table", name: uniqueName("tableInput"), options: { ...options } };
  },
  storageBlob(options: StorageBlobIoOptions): FunctionInput {
    return { kind: "input", type: "storageBlob", name: uniqueName("blobInput"), options: { ...options } };
  },
};

export const output = {
  table(options: TableOutputOptions): FunctionOutput {
    return { kind: "output", type: "table", name: uniqueName("tableOutput"), options: { ...options } };
  },
  storageQueue(options: StorageQueueOutputOptions): FunctionOutput {
    return { kind: "output", type: "storageQueue", name: uniqueName("queueOutput"), options: { ...options } };
  },
  storageBlob(options: StorageBlobIoOptions): FunctionOutput {
    return { kind: "output", type: "storageBlob", name: uniqueName("blobOutput"), options: { ...options } };
  },
};
