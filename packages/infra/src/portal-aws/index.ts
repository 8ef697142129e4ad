// @platform/infra/portal-aws: the portal itself on AWS (ECS Fargate, ALB with OIDC sign-in, RDS), and the
// program `deploy/portal/Pulumi.yaml` runs. See README.md, "Deploy the portal to AWS".
export {
  PORTAL_LIVENESS_PATH,
  PORTAL_PORT,
  PORTAL_READINESS_PATH,
  type PortalArgs,
  PortalArgsError,
  PROXY_JWT_ENV,
  parsePortalArgs,
  portalArgsSchema,
} from "./args";
export { PORTAL_MANAGED_BY, PORTAL_TYPE, PortalOnAws, type PortalOnAwsArgs, RDS_CA_BUNDLE } from "./portal";
export {
  environmentRoleBoundary,
  type PolicyDocument,
  type PolicyStatement,
  type WorkerPolicyInput,
  workerPolicy,
} from "./worker-policy";
