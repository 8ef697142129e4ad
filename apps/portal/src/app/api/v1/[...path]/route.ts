// Anything under /api/v1 that is no API operation: a JSON 404 in the API's error shape (not the HTML page).
import { ApiError } from "../../../../features/api/errors";
import { errorResponse } from "../../../../features/api/serve";

export const dynamic = "force-dynamic";

const notFound = (request: Request) =>
  errorResponse(
    new ApiError(
      "not-found",
      `No API operation at ${request.method} ${new URL(request.url).pathname}. See /api/v1/openapi.json.`,
    ),
  );

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
