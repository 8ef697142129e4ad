import { z } from "zod";

/**
 * HTTP contracts, one zod schema each. Fastify gets their JSON Schema form, so request bodies are
 * validated by compiled Ajv code and responses serialised by fast-json-stringify (both matter on the
 * hot vote path), while the TypeScript types come from the same source.
 */
export const VoteRequest = z.strictObject({ option: z.string().min(1).max(100) });
export type VoteRequest = z.infer<typeof VoteRequest>;

/** The no-JavaScript form posts the same field, URL-encoded. */
export const VoteForm = VoteRequest;

export const VoteResponse = z.object({ option: z.string(), count: z.number().int() });

export const ResultsResponse = z.object({
  options: z.array(z.object({ name: z.string(), count: z.number().int() })),
  total: z.number().int(),
  servedBy: z.string(),
});
export type ResultsResponse = z.infer<typeof ResultsResponse>;

export const ErrorResponse = z.object({ error: z.string(), message: z.string() });
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** Page query flags set by the no-JS redirects (`/?voted=Cats`, `/?reset=1`). */
export const PageQuery = z.object({
  voted: z.string().max(100).optional(),
  reset: z.literal("1").optional(),
});

/** JSON Schema (draft-07, what Fastify's Ajv speaks) for a zod schema. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "draft-07" }) as Record<
    string,
    unknown
  >;
  return rest;
}
