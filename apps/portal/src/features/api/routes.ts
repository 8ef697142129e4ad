// Every /api/v1 operation. The route files under app/api/v1 serve these; the OpenAPI document lists these
// (test/integration/api-contract.test.ts checks that the two agree, from the app's files).
import { config, limitsFrom } from "../../server/env";
import { defineRoute, type RouteSpec } from "./contract";
import {
  cancelEnvironmentRoute,
  createEnvironmentRoute,
  destroyEnvironmentRoute,
  getEnvironmentRoute,
  listEnvironmentsRoute,
  reconcileEnvironmentRoute,
  refreshEnvironmentRoute,
  removeEnvironmentRoute,
  retryEnvironmentRoute,
  scaleEnvironmentRoute,
} from "./environment-routes";
import { meRoute } from "./identity-routes";
import { openApiDocument } from "./openapi";
import {
  getOperationRoute,
  listEventsRoute,
  listOperationsRoute,
  streamEventsRoute,
} from "./operation-routes";

export {
  cancelEnvironmentRoute,
  createEnvironmentRoute,
  destroyEnvironmentRoute,
  getEnvironmentRoute,
  getOperationRoute,
  listEnvironmentsRoute,
  listEventsRoute,
  listOperationsRoute,
  meRoute,
  reconcileEnvironmentRoute,
  refreshEnvironmentRoute,
  removeEnvironmentRoute,
  retryEnvironmentRoute,
  scaleEnvironmentRoute,
  streamEventsRoute,
};

export const openApiRoute = defineRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "getOpenApiDocument",
  summary: "This document",
  description:
    "OpenAPI 3.1, generated from the schemas that validate the requests, with this portal's bounds.",
  tag: "Reference",
  scope: null,
  success: { status: 200, description: "The OpenAPI document", schema: undefined },
  errors: [],
  async handle() {
    return { status: 200, body: openApiDocument(API_ROUTES, limitsFrom(config())) };
  },
});

export const API_ROUTES: RouteSpec[] = [
  listEnvironmentsRoute,
  createEnvironmentRoute,
  getEnvironmentRoute,
  scaleEnvironmentRoute,
  refreshEnvironmentRoute,
  reconcileEnvironmentRoute,
  retryEnvironmentRoute,
  cancelEnvironmentRoute,
  destroyEnvironmentRoute,
  removeEnvironmentRoute,
  listOperationsRoute,
  getOperationRoute,
  listEventsRoute,
  streamEventsRoute,
  meRoute,
  openApiRoute,
];
