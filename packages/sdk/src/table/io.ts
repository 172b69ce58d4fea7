import type { TableEntity, TableTransaction } from "@azure/data-tables";
import { TableTransaction as Transaction } from "@azure/data-tables";
import { SdkError, statusOf } from "../errors.ts";
import { storageAccount } from "../storage/connection.ts";

type Entity = Record<string, unknown>;
const created = new Set<string>();

/** Functions' casing (PartitionKey, RowKey) on the way out; `@azure/data-tables` adds odata fields. */
function toFunctionsShape(entity: Entity): Entity {
  const { partitionKey, rowKey, etag, timestamp, ...rest } = entity;
  delete rest["odata.metadata"];
  return { PartitionKey: partitionKey, RowKey: rowKey, ...rest, Timestamp: timestamp, ETag: etag };
}

/** One entity (partition and row key given), or the entities a query finds. */
export async function readTable(
  connection: string | undefined,
  tableName: string,
  query: { partitionKey?: string; rowKey?: string; filter?: string; take?: number },
): Promise<Entity | Entity[] | null> {
  const table = storageAccount(connection).table(tableName);
  if (query.partitionKey !== undefined && query.rowKey !== undefined) {
    try {
      return toFunctionsShape(await table.getEntity<Entity>(query.partitionKey, query.rowKey));
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }
  const filters: string[] = [];
  if (query.partitionKey !== undefined)
    filters.push(`PartitionKey eq '${query.partitionKey.replace(/'/g, "''")}'`);
  if (query.filter) filters.push(`(${query.filter})`);
  const result: Entity[] = [];
  try {
    const pages = table
      .listEntities<Entity>({ queryOptions: filters.length ? { filter: filters.join(" and ") } : {} })
      .byPage({ maxPageSize: Math.min(query.take ?? 1000, 1000) });
    for await (const page of pages) {
      for (const entity of page) {
        result.push(toFunctionsShape(entity));
        if (query.take !== undefined && result.length >= query.take) return result;
      }
    }
  } catch (error) {
    if (statusOf(error) === 404) return [];
    throw error;
  }
  return result;
}

/**
 * Writes entities, grouped per partition into transactions of at most 100. `insert` fails when an
 * entity exists (the original's behaviour); `upsert` inserts or replaces. The table is created if missing.
 */
export async function writeTable(
  connection: string | undefined,
  tableName: string,
  value: unknown,
  defaults: { partitionKey?: string; rowKey?: string; mode: "insert" | "upsert" },
): Promise<void> {
  const account = storageAccount(connection);
  const table = account.table(tableName);
  const key = `${account.setting}/${tableName}`;
  if (!created.has(key)) {
    await table.createTable().catch((error: unknown) => {
      if (statusOf(error) !== 409) throw error;
    });
    created.add(key);
  }
  const entities = (Array.isArray(value) ? value : [value]).map((item) => toSdkEntity(item, defaults));
  const byPartition = new Map<string, TableEntity[]>();
  for (const entity of entities) {
    const list = byPartition.get(entity.partitionKey) ?? [];
    list.push(entity);
    byPartition.set(entity.partitionKey, list);
  }
  for (const list of byPartition.values()) {
    for (let i = 0; i < list.length; i += 100) {
      const transaction: TableTransaction = new Transaction();
      for (const entity of list.slice(i, i + 100)) {
        if (defaults.mode === "upsert") transaction.upsertEntity(entity, "Replace");
        else transaction.createEntity(entity);
      }
      await table.submitTransaction(transaction.actions);
    }
  }
}

function toSdkEntity(item: unknown, defaults: { partitionKey?: string; rowKey?: string }): TableEntity {
  if (item === null || typeof item !== "object" || Array.isArray(item)) {
    throw new SdkError("binding", `a table output entity must be an object, got ${typeof item}`);
  }
  const { PartitionKey, RowKey, partitionKey, rowKey, ETag: _etag, Timestamp: _ts, ...rest } = item as Entity;
  const pk = PartitionKey ?? partitionKey ?? defaults.partitionKey;
  const rk = RowKey ?? rowKey ?? defaults.rowKey;
  if (typeof pk !== "string" || typeof rk !== "string") {
    throw new SdkError("binding", "a table output entity needs a string PartitionKey and RowKey");
  }
  delete rest.$AzureWebJobsParentId;
  return { partitionKey: pk, rowKey: rk, ...rest };
}
