// JSON Schema (from the OpenAPI document) as short text for the API reference page: "integer, 1–10",
// "one of: local, aws", "Environment or null".
type Json = Record<string, unknown>;

const refName = (ref: string) => ref.split("/").at(-1) ?? ref;

export function describeType(schema: Json | undefined): string {
  if (!schema) return "any";
  if (typeof schema.$ref === "string") return refName(schema.$ref);
  if (Array.isArray(schema.anyOf)) {
    const parts = (schema.anyOf as Json[]).map(describeType);
    return parts.join(" or ");
  }
  if (Array.isArray(schema.enum)) return `one of: ${(schema.enum as unknown[]).join(", ")}`;
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter(Boolean) as string[];
  const base = types.filter((t) => t !== "null");
  let text = base.join(" or ") || "any";
  if (base.includes("array") && schema.items) text = `array of ${describeType(schema.items as Json)}`;
  if (
    base.includes("object") &&
    schema.additionalProperties &&
    typeof schema.additionalProperties === "object"
  )
    text = `map of ${describeType(schema.additionalProperties as Json)}`;
  if (typeof schema.format === "string") text += ` (${schema.format})`;
  const min = schema.minimum ?? schema.minLength;
  const max = schema.maximum ?? schema.maxLength;
  if (min !== undefined || max !== undefined) {
    const unit = schema.minLength !== undefined || schema.maxLength !== undefined ? " characters" : "";
    text += `, ${min ?? "…"}–${max ?? "…"}${unit}`;
  }
  if (types.includes("null")) text += " or null";
  return text;
}

/** The object's fields: name, type, required, description. */
export function fieldsOf(schema: Json | undefined) {
  const props = (schema?.properties as Record<string, Json> | undefined) ?? {};
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    type: describeType(s),
    required: required.has(name),
    description: typeof s.description === "string" ? s.description : "",
  }));
}
