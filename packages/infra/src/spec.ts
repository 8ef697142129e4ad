import { z } from "zod";
import type { EnvironmentRef, EnvironmentSpec } from "./operations/types";

// One schema per contract: these validate what the portal hands to the operations, before any Pulumi run.

/** DNS label: also the Pulumi stack name and a folder name under the data folder. */
export const environmentNameSchema = z
  .string()
  .min(1, "name must not be empty")
  .max(40, "name must be at most 40 characters")
  .regex(
    /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
    "name must be lower-case letters, digits and dashes, start with a letter and not end with a dash",
  );

export const targetSchema = z.enum(["local", "aws"]);

const voteOptionsSchema = z
  .string()
  .refine(
    (v) => v.split(",").filter((o) => o.trim().length > 0).length >= 2,
    "voteOptions needs at least 2 options",
  )
  .refine((v) => !/[\p{Cc}]/u.test(v), "voteOptions must not contain control characters");

export const environmentSpecSchema = z
  .object({
    name: environmentNameSchema,
    target: targetSchema,
    frontendReplicas: z.number().int().min(1).max(20),
    redisReplicas: z.number().int().min(1).max(6),
    owner: z.string().min(1).max(120).optional(),
    aws: z
      .object({
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "region must look like eu-west-1"),
        certificateArn: z.string().startsWith("arn:").optional(),
      })
      .strict()
      .optional(),
    local: z
      .object({
        voteOptions: voteOptionsSchema.optional(),
        appTitle: z.string().min(1).max(80).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.target === "aws" && !spec.aws) {
      ctx.addIssue({
        code: "custom",
        path: ["aws"],
        message: "target aws needs aws options (at least region)",
      });
    }
  }) satisfies z.ZodType<EnvironmentSpec>;

export const environmentRefSchema = z
  .object({ name: environmentNameSchema, target: targetSchema })
  .strip() satisfies z.ZodType<EnvironmentRef>;

export const operationsConfigSchema = z.object({
  backendUrl: z
    .string()
    .refine(
      (u) => u.startsWith("postgres://") || u.startsWith("file://"),
      "backendUrl must be postgres://user:pass@host:port/db?sslmode=disable&table=NAME or file://<dir>",
    ),
  passphrase: z.string().min(1).optional(),
  dataDir: z.string().min(1),
  pulumiHome: z.string().min(1).optional(),
  cliRoot: z.string().min(1).optional(),
  redisServerPath: z.string().min(1).optional(),
  votingAppMain: z.string().min(1).optional(),
});
