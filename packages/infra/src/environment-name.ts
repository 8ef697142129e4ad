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

/** A DNS label that is also the Pulumi stack name, a folder name of the local target, and an AWS name prefix. */
export const environmentNameSchema = z
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
  )
  // Security group names are derived from it, and EC2 refuses group names that look like group ids.
  .refine((n) => !n.startsWith("sg-"), 'Do not start with "sg-" (reserved by EC2 for security group ids).');
