// Turns an API route definition into a Next route handler: the token is the only way in (no cookies, so no
// cross-site requests), then the token's scope, the per-person read limit, the request's parameters and body
// (the route's schemas), the Idempotency-Key of writes, the handler (which calls the one command layer), and
// one JSON error shape for everything that goes wrong. Every use is audited: writes by the commands (or here
// when they never reach a command), reads once per token per TOKEN_READ_AUDIT_MINUTES, refusals always.
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { type TokenResolution, tokenResolver } from "../../server/auth/resolvers";
import { db } from "../../server/db";
import { config, limitsFrom } from "../../server/env";
import { addressFrom } from "../../server/identity";
import { rateLimiters } from "../../server/limits";
import { webLogger } from "../../server/logger";
import { writeAudit } from "../audit/audit-log";
import { findToken, noteTokenUse } from "../tokens/tokens";
import type { ApiContext, ApiInput, RouteSpec, TokenPrincipal } from "./contract";
import { ApiError, invalidInput } from "./errors";
import { claimKey, deterministicUuid, fingerprintOf, idempotencyKeyOf, settleKey } from "./idempotency";

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function errorResponse(error: ApiError): Response {
  return new Response(JSON.stringify(error.body), {
    status: error.status,
    headers: {
      ...JSON_HEADERS,
      ...(error.status === 401 ? { "www-authenticate": 'Bearer realm="portal"' } : {}),
      ...error.headers,
    },
  });
}

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });

const holder = globalThis as unknown as { __portalTokenResolver?: ReturnType<typeof tokenResolver> };
const tokens = () => {
  holder.__portalTokenResolver ??= tokenResolver(config(), (presented) => findToken(db(), presented));
  return holder.__portalTokenResolver;
};

/** Unknown tokens are audited once a minute per address (a scanner must not flood the audit log). */
const unknownAudited = new Map<string, number>();

async function auditRefusedToken(r: Extract<TokenResolution, { ok: false }>, address?: string) {
  if (r.code === "missing") return; // no token at all: nothing to attribute
  if (!r.owner) {
    const key = address ?? "?";
    const last = unknownAudited.get(key) ?? 0;
    if (Date.now() - last < 60_000) return;
    if (unknownAudited.size > 10_000) unknownAudited.clear();
    unknownAudited.set(key, Date.now());
  }
  await writeAudit(db(), {
    actor: { id: r.owner ?? "unknown-token" },
    action: "token-refused",
    outcome: "refused",
    reason: r.reason,
    address,
    details: { code: r.code, ...(r.tokenId ? { tokenId: r.tokenId } : {}) },
  });
}

const auditUse = (
  principal: TokenPrincipal,
  address: string | undefined,
  request: Request,
  outcome: "accepted" | "refused",
  reason?: string,
  details: Record<string, unknown> = {},
) =>
  writeAudit(db(), {
    actor: principal,
    action: "token-use",
    outcome,
    reason,
    address,
    details: { method: request.method, path: new URL(request.url).pathname, ...details },
  });

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query"): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error, where);
  return parsed.data;
}

async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError("unsupported-media-type", "Send the body as JSON (Content-Type: application/json).");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError("bad-request", `The body is not valid JSON (${(e as Error).message}).`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError("invalid", "The body must be a JSON object.", "body");
  }
  return value as Record<string, unknown>;
}

/** A connection failure to PostgreSQL (Prisma's P1001/P1002/P1017, or the driver's socket errors): 503. */
function databaseUnreachable(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  return (
    ["P1001", "P1002", "P1017", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "57P01", "57P03"].includes(
      code ?? "",
    ) ||
    /Can't reach database|Connection terminated|connect ECONNREFUSED/i.test(
      e instanceof Error ? e.message : "",
    )
  );
}

export type NextRouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

export function serve(route: RouteSpec): NextRouteHandler {
  return async (request, context) => {
    const address = addressFrom(request.headers.get("x-forwarded-for"));
    let principal: TokenPrincipal | undefined;
    let auditedHere = false;
    try {
      const c = config();
      const limits = limitsFrom(c);
      if (route.scope !== null) {
        const who = await tokens().resolve({
          header: (n) => request.headers.get(n),
          cookie: () => undefined,
        });
        if (!who.ok) {
          await auditRefusedToken(who, address);
          throw new ApiError("unauthenticated", who.reason);
        }
        principal = who.principal;
        if (route.scope === "write" && principal.token.scope !== "write") {
          auditedHere = true;
          const refusal = new ApiError(
            "insufficient-scope",
            `This token is read-only (scope “read”); ${route.summary.toLowerCase()} needs a token with scope “write”.`,
          );
          await auditUse(principal, address, request, "refused", refusal.message);
          throw refusal;
        }
        if (route.method === "get") {
          const wait = await rateLimiters().apiReads.consume(principal.id);
          if (wait) {
            throw new ApiError(
              "rate-limited",
              `Too many API reads: at most ${rateLimiters().apiReads.perMinute} a minute per person. Try again in ${wait} s.`,
              undefined,
              undefined,
              { "retry-after": String(wait) },
            );
          }
        }
        const use = await noteTokenUse(
          db(),
          principal.token.id,
          address,
          route.method === "get" ? { readAuditMinutes: c.TOKEN_READ_AUDIT_MINUTES } : null,
        );
        if (use.auditRead) await auditUse(principal, address, request, "accepted");
      }

      const rawParams = await context.params;
      const params = route.params ? route.params.safeParse(rawParams) : { success: true as const, data: {} };
      if (!params.success) {
        // A name or id that cannot exist: the same answer as one that does not.
        throw new ApiError("not-found", `Nothing at ${new URL(request.url).pathname}.`);
      }
      const query = route.query
        ? parseOrThrow(route.query.strict(), Object.fromEntries(new URL(request.url).searchParams), "query")
        : {};

      let body: Record<string, unknown> = {};
      let commandKey: string = randomUUID();
      let key: string | null = null;
      if (route.method === "post") {
        key = idempotencyKeyOf(request);
        const raw = await readJsonBody(request);
        if (route.body) {
          const supplied = route.body.supplied.filter((f) => f in raw);
          if (supplied.length) {
            throw new ApiError(
              "invalid",
              `${supplied.join(", ")}: set by the API, not the body (the name comes from the path, the idempotency key from the Idempotency-Key header).`,
              supplied[0],
            );
          }
        }
        if (key && principal) {
          commandKey = deterministicUuid(`${principal.id}\n${key}`);
          const claimed = await claimKey(db(), principal.id, key, {
            method: request.method,
            path: new URL(request.url).pathname,
            fingerprint: fingerprintOf(request.method, new URL(request.url).pathname, raw),
          });
          if (claimed.replay) {
            auditedHere = true;
            await auditUse(principal, address, request, "accepted", undefined, { replay: true });
            return jsonResponse(claimed.replay.status, claimed.replay.body, {
              "idempotent-replayed": "true",
            });
          }
        }
        body = raw;
      }

      const ctx: ApiContext = {
        principal: principal as TokenPrincipal,
        db: db(),
        address,
        limits,
        request,
        commandKey,
      };
      const input: ApiInput = { params: params.data as Record<string, string>, query, body };
      let reply: Awaited<ReturnType<RouteSpec["handle"]>>;
      try {
        reply = await route.handle(ctx, input);
      } catch (e) {
        if (key && principal && e instanceof ApiError) {
          await settleKey(db(), principal.id, key, { status: e.status, body: e.body });
        }
        throw e;
      }
      if (reply instanceof Response) return reply;
      if (key && principal) await settleKey(db(), principal.id, key, reply);
      return jsonResponse(reply.status, reply.body, reply.headers);
    } catch (e) {
      const error =
        e instanceof ApiError
          ? e
          : databaseUnreachable(e)
            ? new ApiError(
                "unavailable",
                "The portal's database does not answer; nothing was changed. Try again.",
                undefined,
                undefined,
                { "retry-after": "5" },
              )
            : new ApiError("internal", "The portal failed to answer; nothing was changed. Try again.");
      if (!(e instanceof ApiError)) {
        webLogger().error({ err: e, operation: route.operationId }, "API request failed");
      }
      // Writes that never reached a command (bad input, a reused key) are audited here.
      if (
        principal &&
        route.method === "post" &&
        !auditedHere &&
        !error.audited &&
        error.code !== "internal" &&
        error.code !== "unavailable"
      ) {
        await auditUse(principal, address, request, "refused", error.message, { code: error.code }).catch(
          () => {},
        );
      }
      return errorResponse(error);
    }
  };
}
