// The portal's API over fetch: the token in every request, an Idempotency-Key on every write (so retries after
// a dropped connection or a 502/503/504 or a 429 are safe), and the portal's one error shape turned into a
// CliError with the matching exit code.
import { randomUUID } from "node:crypto";
import { CliError, EXIT, exitCodeForStatus } from "./errors.js";

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  fields?: Record<string, string>;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 4;
const MAX_WAIT_SECONDS = 60;

export interface ClientOptions {
  url: string;
  token: string;
  /** Waits between retries (tests make it short). */
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
}

export class PortalClient {
  readonly url: string;
  private readonly token: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly userAgent: string;

  constructor(o: ClientOptions) {
    this.url = o.url.replace(/\/+$/, "");
    this.token = o.token;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.userAgent = o.userAgent ?? "envctl";
  }

  /** An absolute URL for a path on the portal ("/api/v1/…"). */
  resolve(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.url}${path.startsWith("/") ? "" : "/"}${path}`;
  }

  async get<T>(path: string): Promise<T> {
    return await this.request<T>("GET", path);
  }

  /** A write; `idempotencyKey` defaults to a fresh one, reused by this call's retries. */
  async post<T>(path: string, body: unknown = {}, idempotencyKey: string = randomUUID()): Promise<T> {
    return await this.request<T>("POST", path, body, idempotencyKey);
  }

  /** A raw streaming GET (server-sent events). */
  async stream(path: string, lastEventId?: string, signal?: AbortSignal): Promise<Response> {
    const res = await this.fetchWithRetries(
      "GET",
      path,
      undefined,
      undefined,
      {
        accept: "text/event-stream",
        ...(lastEventId ? { "last-event-id": lastEventId } : {}),
      },
      signal,
    );
    if (!res.ok) throw await this.errorOf(res);
    return res;
  }

  private async request<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    const res = await this.fetchWithRetries(method, path, body, key);
    if (!res.ok) throw await this.errorOf(res);
    return (await res.json()) as T;
  }

  private async fetchWithRetries(
    method: string,
    path: string,
    body?: unknown,
    key?: string,
    extraHeaders: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = this.resolve(path);
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          signal,
          headers: {
            authorization: `Bearer ${this.token}`,
            "user-agent": this.userAgent,
            accept: "application/json",
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...(key ? { "idempotency-key": key } : {}),
            ...extraHeaders,
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        if (attempt >= MAX_ATTEMPTS) {
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          throw new CliError(
            `Could not reach the portal at ${this.url} (${cause?.code ?? cause?.message ?? (e as Error).message}).`,
            EXIT.failed,
          );
        }
        await this.sleep(500 * 2 ** (attempt - 1));
        continue;
      }
      if (RETRY_STATUSES.has(res.status) && attempt < MAX_ATTEMPTS) {
        const retryAfter = Number(res.headers.get("retry-after"));
        const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 2 ** attempt;
        if (wait <= MAX_WAIT_SECONDS) {
          await res.body?.cancel().catch(() => {});
          await this.sleep(wait * 1000);
          continue;
        }
      }
      return res;
    }
  }

  private async errorOf(res: Response): Promise<CliError> {
    let body: ApiErrorBody | undefined;
    try {
      const parsed = (await res.json()) as Partial<ApiErrorBody>;
      if (typeof parsed.code === "string" && typeof parsed.message === "string")
        body = parsed as ApiErrorBody;
    } catch {
      // not the API's JSON (a proxy's page?): report the status
    }
    const message = body
      ? `${body.message}${
          body.fields && Object.keys(body.fields).length > 1
            ? `\n${Object.entries(body.fields)
                .map(([f, m]) => `  ${f}: ${m}`)
                .join("\n")}`
            : ""
        }`
      : `The portal answered HTTP ${res.status} ${res.statusText}${res.status === 404 ? " (is the URL the portal's?)" : ""}.`;
    return new CliError(message, exitCodeForStatus(res.status), body);
  }
}
