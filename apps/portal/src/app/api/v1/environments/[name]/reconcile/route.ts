// Served by the API layer (features/api): see routes.ts for the definition.
import { reconcileEnvironmentRoute } from "../../../../../../features/api/routes";
import { serve } from "../../../../../../features/api/serve";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = serve(reconcileEnvironmentRoute);
