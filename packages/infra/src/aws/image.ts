// The frontend image: a per-environment ECR repository (immutable tags, lifecycle policy) and an awsx image
// build+push from the voting app's Dockerfile.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import type { ValidVotingEnvironmentArgs } from "./args";
import { named, type Tags } from "./tags";

/** How many images the repository keeps; older ones expire (enough to roll back a few deployments). */
export const IMAGES_KEPT = 10;

// Never part of what the image is built from; skipping them keeps hashing fast.
const ALWAYS_SKIPPED = new Set([
  ".git",
  "node_modules",
  "dist",
  ".turbo",
  ".next",
  "coverage",
  "test-results",
]);

/**
 * A tag derived from the build's content. Tags are immutable in the repository, so each distinct build needs its
 * own tag: the same content keeps the same tag (no rebuild, no new task definition), new content gets a new one.
 * Hashed: the Dockerfile, plus every file of the context except plain names listed in the ignore file Docker
 * uses (`<Dockerfile>.dockerignore` next to the Dockerfile if it exists, else the context's `.dockerignore`; globs are
 * not interpreted: hashing a file Docker ignores only costs an unneeded build, never a stale image).
 */
export function contentTag(contextDir: string, dockerfile: string): string {
  const ignored = new Set(ALWAYS_SKIPPED);
  const beside = `${dockerfile}.dockerignore`;
  const dockerignore = fs.existsSync(beside) ? beside : path.join(contextDir, ".dockerignore");
  if (fs.existsSync(dockerignore)) {
    for (const line of fs.readFileSync(dockerignore, "utf8").split("\n")) {
      const entry = line
        .trim()
        .replace(/^(\*\*\/|\/)/, "")
        .replace(/\/(\*\*)?$/, "");
      if (entry && !entry.startsWith("#") && !/[*?![\]]/.test(entry)) ignored.add(entry);
    }
  }
  const hash = crypto.createHash("sha256");
  // The Dockerfile always counts, even when .dockerignore lists it (Docker reads it regardless).
  hash.update("Dockerfile\0").update(fs.readFileSync(dockerfile)).update("\0");
  const walk = (dir: string) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      if (ignored.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        hash.update(path.relative(contextDir, full)).update("\0").update(fs.readFileSync(full)).update("\0");
      }
    }
  };
  walk(contextDir);
  return `sha-${hash.digest("hex").slice(0, 20)}`;
}

export interface FrontendImage {
  /** Absent with a prebuilt image. */
  repository?: aws.ecr.Repository;
  imageUri: pulumi.Output<string>;
}

export function createFrontendImage(
  args: ValidVotingEnvironmentArgs,
  tags: Tags,
  parent: pulumi.Resource,
): FrontendImage {
  // Built once elsewhere (e.g. by the portal's deployment) and pulled by every environment.
  if (args.frontendImage) return { imageUri: pulumi.output(args.frontendImage) };
  const env = args.name;
  const repository = new aws.ecr.Repository(
    `${env}-frontend`,
    {
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      // The repository belongs to the environment: destroying the environment removes its images.
      forceDelete: true,
      tags: named(tags, `${env}-frontend`),
    },
    { parent },
  );
  new aws.ecr.LifecyclePolicy(
    `${env}-frontend`,
    {
      repository: repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Keep the last ${IMAGES_KEPT} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: IMAGES_KEPT },
            action: { type: "expire" },
          },
        ],
      }),
    },
    { parent },
  );

  const context = args.buildContext ?? args.appPath;
  const dockerfile = path.resolve(args.appPath, args.dockerfile);
  const image = new awsx.ecr.Image(
    `${env}-frontend`,
    {
      repositoryUrl: repository.repositoryUrl,
      context,
      dockerfile,
      // Fargate tasks run X86_64 (see the task definitions); build for it even on an arm64 laptop.
      platform: "linux/amd64",
      imageTag: contentTag(context, dockerfile),
    },
    { parent },
  );
  return { repository, imageUri: image.imageUri };
}
