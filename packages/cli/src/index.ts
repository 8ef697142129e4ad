// @platform/cli as a library: the API client and the webhook signature check.
export { PortalClient } from "./client.js";
export { CliError, EXIT } from "./errors.js";
export type { CommandAnswer, Environment, Operation } from "./types.js";
export { type VerifyResult, verifyWebhookSignature } from "./webhook-signature.js";
