/** JSON schemas shared by routes: they validate requests and feed the OpenAPI document. */
export const nameParams = {
  type: "object",
  properties: {
    name: { type: "string", description: "Job name: a letter or digit, then letters, digits, '-' or '_'" },
  },
  required: ["name"],
} as const;

export const runParams = {
  type: "object",
  properties: {
    name: { type: "string" },
    id: { type: "string", description: "Run id (UTC start time, 18 digits)" },
  },
  required: ["name", "id"],
} as const;
