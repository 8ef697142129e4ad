import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import formbody from "@fastify/formbody";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { AppConfig } from "../config.js";
import {
  BacklogFullError,
  type DurableEvents,
  StoreUnavailableError,
  type Tally,
  VoteStore,
} from "../store/vote-store.js";
import { installErrorHandlers } from "./errors.js";
import { type AppMetrics, addDatabaseMetrics, createMetrics } from "./metrics.js";
import { type PageView, renderPage } from "./page.js";
import {
  ErrorResponse,
  jsonSchema,
  PageQuery,
  ResultsResponse,
  VoteForm,
  VoteRequest,
  VoteResponse,
} from "./schemas.js";

export interface ServerOptions {
  /** `false` silences logs (tests). Defaults to pino JSON logs on stdout at config.logLevel. */
  logger?: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    store: VoteStore;
    metrics: AppMetrics;
  }
}

/** API bodies are tiny (`{"option":"Cats"}`); anything bigger is refused before it is parsed. */
const API_BODY_LIMIT = 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Builds the Fastify app (not yet listening): routes, Redis store, metrics, logging. Closing the app
 * closes its Redis connections too.
 */
export function createServer(config: AppConfig, options: ServerOptions = {}): FastifyInstance {
  const logging = options.logger ?? true;
  const app = Fastify({
    logger: logging ? { level: config.logLevel } : false,
    // Per-request access logs are written by our own onResponse hook (below) so their level is ours.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "reqId" }),
    genReqId: requestId,
    bodyLimit: 16 * 1024,
    trustProxy: true,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  const metrics = createMetrics(config.options);
  let store: VoteStore | undefined;
  const database = config.database
    ? addDatabaseMetrics(metrics, () => ({
        size: store?.durable?.backlogSize ?? 0,
        max: config.database?.backlogMax ?? 0,
      }))
    : undefined;
  const durableEvents: DurableEvents | undefined = database && {
    onDatabase: (up, error) => {
      database.up.set(up ? 1 : 0);
      if (up) app.log.info("database connection ready");
      else app.log.warn({ err: error }, "database unreachable; votes wait in the backlog");
    },
    onWrite: (votes, seconds) => {
      database.writes.inc();
      database.writtenVotes.inc(votes);
      database.writeDuration.observe(seconds);
    },
    onRebuild: (kind) => database.rebuilds.inc({ kind }),
    log: {
      info: (obj, msg) => app.log.info(obj, msg),
      warn: (obj, msg) => app.log.warn(obj, msg),
      error: (obj, msg) => app.log.error(obj, msg),
    },
  };
  store = new VoteStore(
    config,
    {
      onReady: (role) => {
        metrics.storeUp.set({ role }, 1);
        app.log.info({ role }, "redis connection ready");
      },
      onDown: (role, error) => {
        metrics.storeUp.set({ role }, 0);
        app.log.warn({ role, err: error?.message }, "redis connection lost; reconnecting");
      },
    },
    durableEvents,
  );
  metrics.storeUp.set({ role: "primary" }, 0);
  if (config.redis.read) metrics.storeUp.set({ role: "replica" }, 0);
  app.decorate("store", store);
  app.decorate("metrics", metrics);
  // Graceful close: Node closes idle keep-alive sockets only once, when close() starts; sockets whose
  // in-flight request finishes later would then linger until the keep-alive timeout. Reap them as they
  // become idle so close() completes as soon as the last response is sent.
  let reaper: NodeJS.Timeout | undefined;
  app.addHook("preClose", async () => {
    reaper = setInterval(() => app.server.closeIdleConnections(), 50);
  });
  app.addHook("onClose", async () => {
    clearInterval(reaper);
    await store?.close();
  });

  // Hot-path hooks use the callback form: no promise per request.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  const accessLog = logging && (config.logLevel === "debug" || config.logLevel === "trace");
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    const status = reply.statusCode;
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(status) },
      reply.elapsedTime / 1000,
    );
    // Access log: server errors always, everything else only at debug level (info-level per-request
    // logs would cost a large share of the vote hot path; see README "Benchmark").
    if (status >= 500) {
      request.log.warn(
        { method: request.method, url: request.url, status, ms: reply.elapsedTime },
        "request failed",
      );
    } else if (accessLog) {
      request.log.debug(
        { method: request.method, url: request.url, status, ms: reply.elapsedTime },
        "request done",
      );
    }
    done();
  });

  installErrorHandlers(app);
  app.removeContentTypeParser(["text/plain"]);

  app.register(async (api) => apiRoutes(api, config), { prefix: "/api" });
  app.register(async (html) => pageRoutes(html, config));
  app.register(async (ops) => opsRoutes(ops));
  return app;
}

function requestId(req: IncomingMessage): string {
  // Keep a caller's (load balancer's) id so one request can be followed across services; never trust
  // arbitrary header content in logs.
  const header = req.headers["x-request-id"];
  return typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID();
}

async function apiRoutes(api: FastifyInstance, config: AppConfig): Promise<void> {
  const known = new Set(config.options);
  const errors = {
    400: jsonSchema(ErrorResponse),
    415: jsonSchema(ErrorResponse),
    503: jsonSchema(ErrorResponse),
  };

  api.get(
    "/results",
    { schema: { response: { 200: jsonSchema(ResultsResponse), 503: errors[503] } } },
    async (_request, reply) => {
      reply.header("cache-control", "no-store");
      const tally = await api.store.tally();
      return { ...tally, servedBy: config.replicaName };
    },
  );

  api.post<{ Body: VoteRequest }>(
    "/votes",
    {
      bodyLimit: API_BODY_LIMIT,
      schema: { body: jsonSchema(VoteRequest), response: { 201: jsonSchema(VoteResponse), ...errors } },
    },
    async (request, reply) => {
      const { option } = request.body;
      if (!known.has(option)) return reply.code(400).send(unknownOption(option, config.options));
      let count: number;
      try {
        count = await api.store.vote(option);
      } catch (err) {
        if (err instanceof BacklogFullError) api.metrics.votesRejected.inc({ reason: "backlog_full" });
        throw err;
      }
      api.metrics.votes.inc({ option });
      return reply.code(201).send({ option, count });
    },
  );

  // Reset: DELETE the votes collection; answers with the (now empty) tally. Off unless ALLOW_RESET is set.
  api.delete(
    "/votes",
    {
      schema: {
        response: { 200: jsonSchema(ResultsResponse), 403: jsonSchema(ErrorResponse), 503: errors[503] },
      },
    },
    async (_request, reply) => {
      if (!config.allowReset) return reply.code(403).send(RESET_DISABLED);
      await api.store.reset();
      api.log.info("votes reset");
      return {
        options: config.options.map((name) => ({ name, count: 0 })),
        total: 0,
        servedBy: config.replicaName,
      };
    },
  );
}

const RESET_DISABLED: ErrorResponse = {
  error: "reset_disabled",
  message: "Resetting the votes is turned off for this environment.",
};

/**
 * A form post from another site (cross-site request forgery) is refused: the browser's Origin header, else its
 * Sec-Fetch-Site header, must name this site. Requests without either (curl, scripts) are not from a browser
 * page and pass. The JSON API needs no such check: its content type and DELETE make browsers ask first (CORS).
 */
export function isCrossSite(headers: IncomingMessage["headers"], host: string): boolean {
  const origin = headers.origin;
  if (typeof origin === "string") {
    if (origin === "null") return true;
    try {
      return new URL(origin).host !== host;
    } catch {
      return true;
    }
  }
  const site = headers["sec-fetch-site"];
  return site === "cross-site" || site === "same-site";
}

function unknownOption(option: string, options: readonly string[]): ErrorResponse {
  return {
    error: "unknown_option",
    message: `Unknown option ${JSON.stringify(option)}; valid options: ${options.join(", ")}`,
  };
}

/** The HTML page and its no-JavaScript form posts (POST then 303 redirect back to the page). */
async function pageRoutes(html: FastifyInstance, config: AppConfig): Promise<void> {
  await html.register(formbody, { bodyLimit: API_BODY_LIMIT });
  const known = new Set(config.options);

  const crossSitePost = (request: FastifyRequest, reply: FastifyReply) => {
    if (!isCrossSite(request.headers, request.host)) return undefined;
    request.log.warn({ origin: request.headers.origin, url: request.url }, "cross-site form post refused");
    return sendPage(reply, 403, {
      kind: "error",
      text: "That form was sent from another site, so it was refused; nothing was changed.",
    });
  };

  const sendPage = async (reply: FastifyReply, status: number, notice?: PageView["notice"]) => {
    let tally: Tally | undefined;
    try {
      tally = await html.store.tally();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
    }
    const nonce = randomBytes(16).toString("base64");
    return (
      reply
        .code(tally === undefined && status < 400 ? 503 : status)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
          "content-security-policy",
          `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
        )
        .header("x-content-type-options", "nosniff")
        // Not no-referrer: with it Chromium sends `Origin: null` on the page's own form posts, which the
        // cross-site check (below) must refuse. same-origin still leaks nothing to other sites.
        .header("referrer-policy", "same-origin")
        .send(
          renderPage({
            title: config.title,
            options: config.options,
            tally,
            servedBy: config.replicaName,
            notice,
            nonce,
            allowReset: config.allowReset,
          }),
        )
    );
  };

  html.get("/", async (request, reply) => {
    const query = PageQuery.safeParse(request.query);
    let notice: PageView["notice"];
    if (query.success && query.data.voted && known.has(query.data.voted)) {
      notice = { kind: "success", text: `Thanks! Your vote for ${query.data.voted} was counted.` };
    } else if (query.success && query.data.reset) {
      notice = { kind: "success", text: "All votes were reset." };
    }
    return sendPage(reply, 200, notice);
  });

  html.post("/vote", async (request, reply) => {
    const refused = crossSitePost(request, reply);
    if (refused) return refused;
    const form = VoteForm.safeParse(request.body);
    if (!form.success || !known.has(form.data.option)) {
      return sendPage(reply, 400, {
        kind: "error",
        text: "That is not one of the options; nothing was counted.",
      });
    }
    try {
      await html.store.vote(form.data.option);
    } catch (err) {
      if (err instanceof BacklogFullError) {
        html.metrics.votesRejected.inc({ reason: "backlog_full" });
        return sendPage(reply, 503, {
          kind: "error",
          text: "Your vote could not be counted: too many votes are waiting to be saved. Try again shortly.",
        });
      }
      if (!(err instanceof StoreUnavailableError)) throw err;
      return sendPage(reply, 503, {
        kind: "error",
        text: "Your vote could not be counted: the vote store is unavailable.",
      });
    }
    html.metrics.votes.inc({ option: form.data.option });
    return reply.redirect(`/?voted=${encodeURIComponent(form.data.option)}`, 303);
  });

  html.post("/reset", async (request, reply) => {
    const refused = crossSitePost(request, reply);
    if (refused) return refused;
    if (!config.allowReset) {
      return sendPage(reply, 403, { kind: "error", text: RESET_DISABLED.message });
    }
    try {
      await html.store.reset();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return sendPage(reply, 503, { kind: "error", text: "Reset failed: the vote store is unavailable." });
    }
    html.log.info("votes reset");
    return reply.redirect("/?reset=1", 303);
  });
}

/** Probes for load balancers and orchestrators, and Prometheus metrics. */
async function opsRoutes(ops: FastifyInstance): Promise<void> {
  // Liveness: the process serves requests. Deliberately independent of Redis, so an outage does not
  // make the orchestrator restart healthy replicas.
  ops.get("/healthz", async () => ({ status: "ok" }));

  // Readiness: only send traffic here when Redis answers.
  ops.get("/readyz", async (_request, reply) => {
    const health = await ops.store.health();
    reply.header("cache-control", "no-store");
    return reply
      .code(health.ok ? 200 : 503)
      .send({ status: health.ok ? "ready" : "unavailable", checks: health.checks });
  });

  ops.get("/metrics", async (_request, reply) => {
    reply.header("content-type", ops.metrics.registry.contentType);
    return ops.metrics.registry.metrics();
  });
}
