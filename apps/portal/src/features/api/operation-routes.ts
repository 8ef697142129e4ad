// /api/v1/environments/{name}/operations: an environment's operations, one operation, its events as JSON pages
// and as a server-sent stream (the same stream the pages' live log reads).
import { z } from "zod";
import { db } from "../../server/db";
import { rateLimiters } from "../../server/limits";
import { operationEventStream } from "../../server/operation-stream";
import { isOperationActive } from "../../shared/status";
import { findLiveEnvironment } from "../environments/commands";
import { eventsAfter } from "../environments/queries";
import { defineRoute } from "./contract";
import { nameParams } from "./environment-routes";
import { ApiError } from "./errors";
import { presentEvent, presentOperation } from "./present";

const operationParams = nameParams.extend({ id: z.string().uuid() });

const eventsQuery = z.object({
  after: z
    .string()
    .regex(/^\d{1,19}$/, "after is an event id (digits).")
    .optional()
    .describe("Only events after this id (the `next` of the previous page)"),
  limit: z.coerce.number({ message: "A number." }).int().min(1).max(1000).default(500),
});

const historyQuery = z.object({
  limit: z.coerce.number({ message: "A number." }).int().min(1).max(100).default(25),
});

async function liveEnvironment(name: string) {
  const env = await findLiveEnvironment(db(), name);
  if (!env)
    throw new ApiError("not-found", `There is no environment named “${name}”. It may have been removed.`);
  return env;
}

async function operationOf(name: string, id: string) {
  const env = await liveEnvironment(name);
  const op = await db().operation.findFirst({ where: { id, environmentId: env.id } });
  if (!op) throw new ApiError("not-found", `Environment “${name}” has no operation ${id}.`);
  return op;
}

export const listOperationsRoute = defineRoute({
  method: "get",
  path: "/environments/{name}/operations",
  operationId: "listOperations",
  summary: "List an environment's operations",
  description: "Newest first.",
  tag: "Operations",
  scope: "read",
  params: nameParams,
  query: historyQuery,
  success: { status: 200, description: "Its operations", schema: "OperationList" },
  errors: ["not-found", "invalid"],
  async handle(_ctx, { params, query }) {
    const env = await liveEnvironment(params.name as string);
    const ops = await db().operation.findMany({
      where: { environmentId: env.id },
      orderBy: { createdAt: "desc" },
      take: (query as z.output<typeof historyQuery>).limit,
    });
    return { status: 200, body: { items: ops.map((o) => presentOperation(env.name, o)) } };
  },
});

export const getOperationRoute = defineRoute({
  method: "get",
  path: "/environments/{name}/operations/{id}",
  operationId: "getOperation",
  summary: "Get an operation",
  tag: "Operations",
  scope: "read",
  params: operationParams,
  success: { status: 200, description: "The operation", schema: "Operation" },
  errors: ["not-found"],
  async handle(_ctx, { params }) {
    const op = await operationOf(params.name as string, params.id as string);
    return { status: 200, body: presentOperation(params.name as string, op) };
  },
});

export const listEventsRoute = defineRoute({
  method: "get",
  path: "/environments/{name}/operations/{id}/events",
  operationId: "listOperationEvents",
  summary: "Read an operation's events",
  description:
    "Its log and resource steps, oldest first. Poll with `after` = the previous page's `next`, or use the stream.",
  tag: "Operations",
  scope: "read",
  params: operationParams,
  query: eventsQuery,
  success: { status: 200, description: "A page of events", schema: "EventList" },
  errors: ["not-found", "invalid"],
  async handle(_ctx, { params, query }) {
    const q = query as z.output<typeof eventsQuery>;
    const op = await operationOf(params.name as string, params.id as string);
    const after = BigInt(q.after ?? "0");
    const events = await eventsAfter(op.id, after, q.limit);
    const last = events.at(-1)?.id;
    return {
      status: 200,
      body: {
        items: events.map(presentEvent),
        next: last !== undefined ? last.toString() : (q.after ?? null),
        operation: { status: op.status, done: !isOperationActive(op.status) },
      },
    };
  },
});

export const streamEventsRoute = defineRoute({
  method: "get",
  path: "/environments/{name}/operations/{id}/events/stream",
  operationId: "streamOperationEvents",
  summary: "Stream an operation's events",
  description:
    "Server-sent events: `event` (data: {id, type, severity, message}; the SSE id is the event id), `progress` ({status, done, expected, error}) when it changes, and a final `end` with the last progress, after which the server closes the stream. Resume with `Last-Event-ID` or `?after=`. One poller per operation serves every viewer; past the server's limit of open streams the answer is 503 with Retry-After.",
  tag: "Operations",
  scope: "read",
  params: operationParams,
  query: z.object({
    after: z
      .string()
      .regex(/^\d{1,19}$/, "after is an event id (digits).")
      .optional()
      .describe("Start after this event id"),
  }),
  success: { status: 200, description: "The event stream", contentType: "text/event-stream" },
  errors: ["not-found", "unavailable"],
  async handle(ctx, { params }) {
    const op = await operationOf(params.name as string, params.id as string);
    const wait = await rateLimiters().streams.consume(ctx.principal.id);
    if (wait) {
      throw new ApiError(
        "rate-limited",
        `Too many event streams opened: at most ${rateLimiters().streams.perMinute} a minute per person. Try again in ${wait} s.`,
        undefined,
        undefined,
        { "retry-after": String(wait) },
      );
    }
    const stream = operationEventStream(ctx.request, op.id, { environment: params.name as string });
    if (!stream) {
      throw new ApiError(
        "unavailable",
        "Too many live event streams are open on this server right now; try again shortly (or read the events as JSON pages).",
        undefined,
        undefined,
        { "retry-after": "5" },
      );
    }
    return stream;
  },
});
