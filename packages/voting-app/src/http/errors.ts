import type { FastifyError, FastifyInstance } from "fastify";
import { BacklogFullError, StoreUnavailableError } from "../store/vote-store.js";
import type { ErrorResponse } from "./schemas.js";

/** Maps every failure to a JSON body `{ error, message }` with a stable machine-readable code. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, body } = describe(err);
    if (status >= 500 && !(err instanceof StoreUnavailableError) && !(err instanceof BacklogFullError))
      request.log.error({ err }, "request failed");
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: "not_found", message: `${request.method} ${request.url} does not exist` }),
  );
}

export function describe(err: FastifyError | Error): { status: number; body: ErrorResponse } {
  if (err instanceof StoreUnavailableError) {
    return {
      status: 503,
      body: { error: "store_unavailable", message: "The vote store is unavailable; try again shortly." },
    };
  }
  if (err instanceof BacklogFullError) {
    return {
      status: 503,
      body: {
        error: "backlog_full",
        message: "Too many votes are waiting to be saved to the database; try again shortly.",
      },
    };
  }
  const e = err as FastifyError;
  if (e.validation) return { status: 400, body: { error: "invalid_body", message: e.message } };
  switch (e.code) {
    // The contract promises 400 for every unusable body, oversized included (not 413).
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 400, body: { error: "body_too_large", message: "Request body is too large" } };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: { error: "empty_body", message: "Request body is empty" } };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, body: { error: "malformed_json", message: "Request body is not valid JSON" } };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: { error: "unsupported_media_type", message: "Send the body as application/json" },
      };
  }
  const status = typeof e.statusCode === "number" && e.statusCode >= 400 ? e.statusCode : 500;
  if (status < 500) return { status, body: { error: "bad_request", message: e.message } };
  return { status, body: { error: "internal_error", message: "Internal server error" } };
}
