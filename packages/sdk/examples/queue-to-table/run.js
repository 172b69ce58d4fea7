// Each order message ({ "id": "42", "item": "book" }) becomes a row of the Orders table.
import { app, output } from "webjobs-sdk";

const orders = output.table({ tableName: "Orders", partitionKey: "orders", rowKey: "{orderId}" });

app.storageQueue("saveOrder", {
  queueName: "orders",
  return: orders,
  handler: (order, context) => {
    context.log(`order ${order.orderId}: ${order.item} (attempt ${context.triggerMetadata.dequeueCount})`);
    return { item: order.item, receivedAt: new Date().toISOString() };
  },
});
