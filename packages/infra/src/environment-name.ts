// The one rule for environment names, shared by the operations, the AWS component and the portal's forms
// (browser and server). It depends on zod only, so a client bundle can import it without Pulumi.
import { z } from "zod";

/**
 * Environment names prefix AWS names. The tightest limit is 32 characters for load balancer and target group
 * names, which Pulumi generates as `<logical name>-<7 random characters>` (so a replacement never collides
 * with the name of the resource it replaces). The longest logical name is `<env>-web` (4 characters), so
 * `<env>` gets 32 - 8 - 4 = 20.
 */
export const MAX_ENV_NAME_LENGTH = 20;
export const MIN_ENV_NAME_LENGTH = 3;

/**
 * Words a new environment may not be named, because an environment's page is `/environments/<name>`: a name
 * equal to a page of the portal there (`/environments/new`, the create form) would make that environment's
 * page unreachable. The list also holds words the portal is likely to use for pages of its own (under
 * `/environments/` or beside it), so adding such a page never hides an existing environment.
 */
export const RESERVED_ENVIRONMENT_NAMES: readonly string[] = [
  "new",
  "create",
  "edit",
  "import",
  "export",
  "search",
  "compare",
  "bulk",
  "drift",
  "operations",
  "events",
  "settings",
  "admin",
  "api",
  "static",
  "assets",
  "health",
  "healthz",
  "readyz",
  "metrics",
  "login",
  "logout",
  "signin",
  "signout",
  "auth",
  "callback",
  "users",
  "teams",
  "roles",
  "audit",
  "environments",
  "index",
  "default",
  "null",
  "undefined",
];

const RESERVED = new Set(RESERVED_ENVIRONMENT_NAMES);

/**
 * The syntax of a name: a DNS label that is also the Pulumi stack name, a folder name of the local target,
 * and an AWS name prefix. What addresses an environment that exists (operations, lookups) checks this only,
 * so one created before a word was reserved can still be operated and destroyed.
 */
export const existingEnvironmentNameSchema = z
  .string({ error: "Name is required." })
  .trim()
  .min(MIN_ENV_NAME_LENGTH, `Use at least ${MIN_ENV_NAME_LENGTH} characters.`)
  .max(
    MAX_ENV_NAME_LENGTH,
    `Use at most ${MAX_ENV_NAME_LENGTH} characters (AWS load balancer and target group names, limited to 32, are derived from it).`,
  )
  .regex(/^[a-z]/, "Start with a lower-case letter.")
  .regex(/^[a-z0-9-]+$/, "Use only lower-case letters, digits and dashes (DNS-safe).")
  .regex(/[a-z0-9]$/, "Do not end with a dash.")
  .refine((n) => !n.includes("--"), "Do not use two dashes in a row.")
  // Elastic Load Balancing reserves the prefix: internal load balancers' DNS names begin with "internal-".
  .refine(
    (n) => !n.startsWith("internal"),
    'Do not start with "internal" (reserved by Elastic Load Balancing).',
  );

// Security group names are derived from the name, and EC2 refuses group names that look like group ids.
const notSecurityGroupId = (n: string) => !n.startsWith("sg-");
const SECURITY_GROUP_ID_MESSAGE = 'Do not start with "sg-" (reserved by EC2 for security group ids).';

/** A name the AWS program accepts: the syntax, and no prefix AWS refuses in the names derived from it. */
export const awsEnvironmentNameSchema = existingEnvironmentNameSchema.refine(
  notSecurityGroupId,
  SECURITY_GROUP_ID_MESSAGE,
);

/**
 * The rule for a new environment's name: the syntax, not a prefix AWS refuses (on any target, so a local
 * environment's name works on AWS too), and not a reserved word.
 */
export const environmentNameSchema = existingEnvironmentNameSchema.superRefine((n, ctx) => {
  if (!notSecurityGroupId(n)) ctx.addIssue({ code: "custom", message: SECURITY_GROUP_ID_MESSAGE });
  if (RESERVED.has(n)) {
    ctx.addIssue({
      code: "custom",
      message: `“${n}” is reserved for the portal's own pages (e.g. /environments/new). Choose another name.`,
    });
  }
});
