import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { SdkError } from "../errors.ts";

export const DEFAULT_CONNECTION = "AzureWebJobsStorage";

/** The clients of one storage account, made once per connection setting. */
export interface StorageAccount {
  readonly setting: string;
  readonly queues: QueueServiceClient;
  readonly blobs: BlobServiceClient;
  table(name: string): TableClient;
}

const accounts = new Map<string, StorageAccount>();

/**
 * The account named by `connection` (a setting: `AzureWebJobsStorage` by default). The setting holds a
 * connection string (Azurite's `UseDevelopmentStorage=true` too), or, under `{setting}__queueServiceUri`
 * / `__blobServiceUri` / `__tableServiceUri`, service URLs carrying a SAS token.
 */
export function storageAccount(connection: string | undefined, env = process.env): StorageAccount {
  const setting = connection ?? DEFAULT_CONNECTION;
  const cached = accounts.get(setting);
  if (cached) return cached;
  const account = openAccount(setting, env);
  accounts.set(setting, account);
  return account;
}

function openAccount(setting: string, env: NodeJS.ProcessEnv): StorageAccount {
  const value = env[setting] ?? env[`CUSTOMCONNSTR_${setting}`];
  try {
    if (value !== undefined && value.trim() !== "") {
      const insecure = /^UseDevelopmentStorage=true/i.test(value.trim()) || /Endpoint=http:/i.test(value);
      return {
        setting,
        queues: QueueServiceClient.fromConnectionString(value),
        blobs: BlobServiceClient.fromConnectionString(value),
        table: (name) => TableClient.fromConnectionString(value, name, { allowInsecureConnection: insecure }),
      };
    }
    const queueUri = env[`${setting}__queueServiceUri`] ?? env[`${setting}__serviceUri`];
    const blobUri = env[`${setting}__blobServiceUri`] ?? env[`${setting}__serviceUri`];
    if (queueUri || blobUri) {
      const missing = (service: string) => () => {
        throw new SdkError("connection", `the setting ${setting}__${service}ServiceUri is not defined`);
      };
      return {
        setting,
        queues: queueUri ? new QueueServiceClient(queueUri) : (missing("queue")() as never),
        blobs: blobUri ? new BlobServiceClient(blobUri) : (missing("blob")() as never),
        // Tables need a connection string (or a credential this SDK does not take yet).
        table: () => missing("table")() as never,
      };
    }
  } catch (error) {
    if (error instanceof SdkError) throw error;
    throw new SdkError("connection", `the setting ${setting} holds no valid storage connection string`, {
      cause: error,
    });
  }
  throw new SdkError(
    "connection",
    `no storage connection: set ${setting} to a connection string (for Azurite: UseDevelopmentStorage=true)`,
  );
}
