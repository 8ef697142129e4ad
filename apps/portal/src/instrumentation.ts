// Server-side errors of pages, server actions and route handlers, as JSON log lines (Next calls this for
// every request that fails on the server), with the environment the request was about when the path names
// one. Next prints its own line too; this one is the one to ship and alert on.
import type { Instrumentation } from "next";

const environmentInPath = /^\/(?:api\/)?environments\/([^/?#]+)/;

export const onRequestError: Instrumentation.onRequestError = async (error, request, context) => {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { webLogger } = await import("./server/logger");
  const path = request.path.split("?")[0] ?? request.path;
  const environment = environmentInPath.exec(path)?.[1];
  webLogger().error(
    {
      err: error,
      digest: (error as { digest?: string }).digest,
      method: request.method,
      path,
      ...(environment && environment !== "new" ? { environment: decodeURIComponent(environment) } : {}),
      route: context.routePath,
      routeType: context.routeType,
    },
    "request failed",
  );
};
