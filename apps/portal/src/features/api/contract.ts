// One definition per API operation: its path, scope, parameters, body and answers. `serve` (serve.ts) turns it
// into a Next route handler (the same schemas validate the request), and openapi.ts into the document.
import type { PrismaClient } from "@platform/db/client";
import type { z } from "zod";
import type { Principal } from "../../shared/access";
import type { Limits } from "../../shared/environment-schemas";
import type { ApiErrorCode } from "./errors";

export type TokenPrincipal = Principal & { token: NonNullable<Principal["token"]> };

export interface RequestBody {
  /**
   * The command's own schema (the one the pages use). The API fills the fields it supplies itself (`fill`:
   * the name from the path, the idempotency key) and hides them from the documented body.
   */
  schema: (limits: Limits) => z.ZodObject;
  /** Fields people send that the command schema does not have (e.g. scale's `preview`). */
  extra?: z.ZodObject;
  supplied: string[];
  /** A body may be left out (`{}`). */
  optional?: boolean;
}

export interface ApiContext {
  principal: TokenPrincipal;
  db: PrismaClient;
  address?: string;
  limits: Limits;
  request: Request;
  /** The key the command records (derived from the Idempotency-Key header, or fresh). */
  commandKey: string;
}

export interface ApiInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

export interface ApiReply {
  status: 200 | 201 | 202;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RouteSpec {
  method: "get" | "post";
  /** OpenAPI path under /api/v1, e.g. /environments/{name}. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: "Environments" | "Operations" | "Identity" | "Reference";
  /** Token scope needed; null: public (the document itself). */
  scope: "read" | "write" | null;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: RequestBody;
  success: {
    status: 200 | 202;
    description: string;
    /** Name of a component schema (openapi.ts), or a raw content type with no schema. */
    schema?: string;
    contentType?: "application/json" | "text/event-stream";
  };
  /** Error codes this operation can answer with (documented; every route also has 401/429/500). */
  errors: ApiErrorCode[];
  handle(ctx: ApiContext, input: ApiInput): Promise<ApiReply | Response>;
}

export const defineRoute = (spec: RouteSpec): RouteSpec => spec;
