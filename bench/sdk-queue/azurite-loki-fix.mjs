// Preloaded into the bench's Azurite (node --import). Azurite (in memory too) keeps queue messages
// and message-body extents in LokiJS collections with binary indices, and three of its calls go
// through LokiJS batch paths that re-sort every index of the collection from scratch:
// - clearExpiredMessages, before every queue request, calls `messages.remove(expired)`, almost
//   always with an empty array;
// - a receive updates its messages with `messages.update(array)`;
// - the extent garbage collector deletes extents one `findAndRemove` at a time.
// Each of those costs O(N log N) in the number of messages held, so a 10,000-message queue drains at
// tens of messages/s and the bench would measure Azurite, not the consumers. Here a batch is done as
// what it means: nothing for an empty one, one adaptive (incremental) index update per document for
// small ones. Results are identical; only the index upkeep changes.
import { createRequire } from "node:module";
import path from "node:path";

// Azurite is CommonJS: the same LokiJS module instance it loads.
const require = createRequire(import.meta.url);
const azurite = path.dirname(require.resolve("azurite/package.json"));
const Loki = require(require.resolve("lokijs", { paths: [azurite] }));
const proto = Loki.Collection.prototype;
const { removeBatchByPositions, removeBatch, update } = proto;
const SMALL = 64;

proto.removeBatch = function (batch) {
  if (batch.length === 0) return;
  return removeBatch.call(this, batch);
};
proto.removeBatchByPositions = function (positions) {
  if (positions.length === 0) return;
  if (positions.length > SMALL || !this.adaptiveBinaryIndices) {
    return removeBatchByPositions.call(this, positions);
  }
  const docs = positions.map((position) => this.data[position]);
  for (const doc of docs) this.remove(doc);
};
proto.update = function (doc) {
  if (!Array.isArray(doc) || doc.length > SMALL) return update.call(this, doc);
  for (const one of doc) update.call(this, one);
};
