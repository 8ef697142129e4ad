// /api/v1/me: who the token acts as (its owner's current role and teams), the token itself, and the limits the
// create form shows, so a client (the CLI's `login`) can check a token and learn the bounds before asking.
import { config } from "../../server/env";
import { defineRoute } from "./contract";

export const meRoute = defineRoute({
  method: "get",
  path: "/me",
  operationId: "getMe",
  summary: "Who the token acts as",
  description:
    "The token's owner with their current role (worked out from their groups as last seen and the current configuration), the token, and the create form's limits.",
  tag: "Identity",
  scope: "read",
  success: { status: 200, description: "The token's owner and the limits", schema: "Me" },
  errors: [],
  async handle(ctx) {
    const c = config();
    const p = ctx.principal;
    const token = await ctx.db.apiToken.findUniqueOrThrow({ where: { id: p.token.id } });
    return {
      status: 200,
      body: {
        id: p.id,
        name: p.name,
        role: p.role,
        teams: p.teams,
        token: {
          id: token.id,
          name: token.name,
          prefix: token.tokenPrefix,
          scope: token.scope,
          expiresAt: token.expiresAt.toISOString(),
        },
        limits: {
          frontendReplicas: {
            min: c.FRONTEND_REPLICAS_MIN,
            max: c.FRONTEND_REPLICAS_MAX,
            default: c.FRONTEND_REPLICAS_DEFAULT,
          },
          redisReplicas: {
            min: c.REDIS_REPLICAS_MIN,
            max: c.REDIS_REPLICAS_MAX,
            default: c.REDIS_REPLICAS_DEFAULT,
          },
          replicasPerEnvironment: c.QUOTA_REPLICAS_PER_ENVIRONMENT,
          maxTtlHours: c.MAX_TTL_HOURS,
          defaultTtlHours: c.DEFAULT_TTL_HOURS,
          ttlRequired: p.role !== "admin",
          awsRegions: ctx.limits.awsRegions,
        },
      },
    };
  },
});
