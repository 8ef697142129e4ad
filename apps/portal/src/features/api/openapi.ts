// The OpenAPI 3.1 document of /api/v1, generated from the route definitions and the same zod schemas that
// validate requests (zod 4's own JSON Schema output: draft 2020-12, which is OpenAPI 3.1's schema dialect).
// Bounds come from the configuration (e.g. the replica sliders' min/max), so the document says what this portal
// accepts. Why not @asteasolutions/zod-to-openapi: its zod 4 conversion kept only the first of the environment
// name's three patterns; zod's own conversion keeps them all.
import { z } from "zod";
import type { Limits } from "../../shared/environment-schemas";
import type { RouteSpec } from "./contract";
import { API_ERROR_STATUS, type ApiErrorCode } from "./errors";
import { IDEMPOTENCY_HOURS } from "./idempotency";
import { API_BASE } from "./present";
import {
  commandAnswerSchema,
  environmentListSchema,
  environmentSchema,
  errorSchema,
  eventListSchema,
  eventSchema,
  meSchema,
  operationListSchema,
  operationSchema,
} from "./schemas";

type Json = Record<string, unknown>;

const COMPONENTS: Record<string, z.ZodType> = {
  Error: errorSchema,
  Environment: environmentSchema,
  EnvironmentList: environmentListSchema,
  Operation: operationSchema,
  OperationList: operationListSchema,
  Event: eventSchema,
  EventList: eventListSchema,
  CommandAnswer: commandAnswerSchema,
  Me: meSchema,
};

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Drops what only adds noise for readers: long regexes behind a `format`, the JSON Schema dialect per schema. */
function tidy(node: unknown, responses: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => tidy(n, responses));
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === "$schema" || k === "$id") continue;
    if (k === "pattern" && typeof (node as Json).format === "string") continue;
    // Answers may gain fields in later versions: clients must not reject unknown ones.
    if (responses && k === "additionalProperties" && v === false) continue;
    out[k] = tidy(v, responses);
  }
  return out;
}

const toSchema = (schema: z.ZodType, io: "input" | "output") =>
  tidy(z.toJSONSchema(schema, { io, unrepresentable: "any" }), io === "output") as Json;

/** True when the parameter may be left out (optional or with a default). */
const optional = (schema: z.ZodType) => schema.safeParse(undefined).success;

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [where, obj] of [
    ["path", route.params],
    ["query", route.query],
  ] as const) {
    if (!obj) continue;
    for (const [name, schema] of Object.entries(obj.shape as Record<string, z.ZodType>)) {
      const s = toSchema(schema, "input");
      out.push({
        name,
        in: where,
        required: where === "path" || !optional(schema),
        ...(schema.description ? { description: schema.description } : {}),
        schema: s,
      });
    }
  }
  if (route.method === "post") {
    out.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: `Makes the write safe to retry: the same key with the same body within ${IDEMPOTENCY_HOURS} hours gets the first answer again (header Idempotent-Replayed: true) and does nothing twice; with a different body it gets 422 idempotency-key-reused. Keys are per person; a refused request frees its key.`,
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  return out;
}

/** The body people send: the command's schema without the fields the API fills itself. */
function requestBody(route: RouteSpec, limits: Limits): Json {
  const body = route.body as NonNullable<RouteSpec["body"]>;
  const base = body.schema(limits);
  const schema = toSchema(body.extra ? base.extend(body.extra.shape) : base, "input");
  const props = { ...((schema.properties as Json) ?? {}) };
  for (const f of body.supplied) delete props[f];
  const required = ((schema.required as string[]) ?? []).filter((f) => !body.supplied.includes(f));
  return {
    ...schema,
    properties: props,
    ...(required.length ? { required } : { required: undefined }),
    additionalProperties: false,
  };
}

function responses(route: RouteSpec): Json {
  const out: Json = {
    [route.success.status]: {
      description: route.success.description,
      content:
        route.success.contentType === "text/event-stream"
          ? { "text/event-stream": { schema: { type: "string" } } }
          : {
              "application/json": {
                schema: route.success.schema ? ref(route.success.schema) : { type: "object" },
              },
            },
    },
  };
  const codes = new Set<ApiErrorCode>(route.errors);
  if (route.scope !== null) {
    codes.add("unauthenticated");
    codes.add("rate-limited");
  }
  if (route.scope === "write") codes.add("insufficient-scope");
  if (route.method === "post") {
    codes.add("bad-request");
    codes.add("unsupported-media-type");
  }
  codes.add("internal");
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) {
    const status = API_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[status] = {
      description: `Error: ${list.join(", ")}`,
      content: { "application/json": { schema: ref("Error") } },
    };
  }
  return out;
}

/** The API's OpenAPI 3.1 document for these routes and limits. */
export function openApiDocument(routes: RouteSpec[], limits: Limits): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, unknown> };
  const schemas: Json = {};
  for (const [id, s] of Object.entries(generated.schemas)) schemas[id] = tidy(s, true);

  const paths: Record<string, Json> = {};
  for (const route of routes) {
    if (route.body) {
      schemas[`${route.operationId[0]?.toUpperCase()}${route.operationId.slice(1)}Request`] = requestBody(
        route,
        limits,
      );
    }
    const bodyId = `${route.operationId[0]?.toUpperCase()}${route.operationId.slice(1)}Request`;
    paths[route.path] ??= {};
    (paths[route.path] as Json)[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      "x-token-scope": route.scope ?? "none",
      ...(route.scope === null ? { security: [] } : {}),
      parameters: parameters(route),
      ...(route.body
        ? {
            requestBody: {
              required: !route.body.optional,
              content: { "application/json": { schema: ref(bodyId) } },
            },
          }
        : {}),
      responses: responses(route),
    };
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Environments portal API",
      version: "1.0.0",
      description: [
        "Create, scale and tear down voting-app environments from scripts and CI pipelines: the same commands, checks, quotas, audit log and queue as the portal's pages.",
        "",
        "**Authentication**: a personal access token (Tokens page) as `Authorization: Bearer envp_…`. A token acts as its owner with their current role; scope `read` allows GET requests only, `write` everything its owner may do.",
        "",
        "**Writes** are asynchronous: they answer 202 with the operation they requested; follow it with its events (JSON pages or a server-sent stream). Send an `Idempotency-Key` to retry safely.",
        "",
        "**Errors** have one shape, `{ code, message, field?, fields? }`: 400 bad-request, 401 unauthenticated, 403 forbidden / insufficient-scope / quota, 404 not-found, 409 refused (state) / conflict, 415 unsupported-media-type, 422 invalid / idempotency-key-reused, 429 rate-limited (with Retry-After), 500 internal, 503 unavailable.",
      ].join("\n"),
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: API_BASE }],
    security: [{ token: [] }],
    tags: [
      { name: "Environments", description: "Environments and the commands on them" },
      { name: "Operations", description: "What ran on an environment, and its live log" },
      { name: "Identity", description: "Who a token acts as" },
      { name: "Reference", description: "This document" },
    ],
    paths,
    components: {
      securitySchemes: {
        token: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "envp_ personal access token",
          description: "A personal access token from the portal's Tokens page.",
        },
      },
      schemas,
    },
  };
}
