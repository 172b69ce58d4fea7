// Every new or changed text file in "uploads" gets an upper-cased copy in "processed".
import { app, output } from "webjobs-sdk";

app.storageBlob("shout", {
  path: "uploads/{name}.txt",
  return: output.storageBlob({ path: "processed/{name}.txt" }),
  handler: (blob, context) => {
    context.log(`${context.triggerMetadata.blobTrigger}: ${blob.length} bytes`);
    return blob.toString("utf8").toUpperCase();
  },
});
