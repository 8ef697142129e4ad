import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * No Docker engine on these machines, so the image cannot be built here. These checks keep the build's
 * inputs honest: the Dockerfile only uses files inside its context, and the standalone lockfile and
 * tsconfig it relies on agree with the workspace's.
 */
const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const read = (p: string) => readFileSync(`${pkgDir}${p}`, "utf8");
const json = (p: string) => JSON.parse(read(p)) as Record<string, unknown>;

describe("Docker build inputs", () => {
  const dockerfile = read("Dockerfile");
  const ignored = read(".dockerignore")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  it("is multi-stage, runs as non-root, and health-checks /healthz", () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-alpine$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m);
  });

  it("copies only files that exist in the context and are not .dockerignored", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(src.startsWith("..") || src.startsWith("/"), src).toBe(false);
      expect(existsSync(`${pkgDir}${src}`), src).toBe(true);
      expect(ignored.includes(src.split("/")[0] ?? src), src).toBe(false);
    }
  });

  it("docker/package-lock.json is in sync with package.json (run `npm run docker:lock` if not)", () => {
    const pkg = json("package.json");
    const lock = json("docker/package-lock.json") as { packages: Record<string, Record<string, unknown>> };
    const root = lock.packages[""] ?? {};
    expect(root.dependencies).toEqual(pkg.dependencies);
    // Workspace-only dev dependencies are deleted by the Dockerfile before `npm ci`, and left out of the lock.
    const devDependencies = { ...(pkg.devDependencies as Record<string, string>) };
    for (const name of Object.keys(devDependencies)) {
      if (!name.startsWith("@platform/")) continue;
      delete devDependencies[name];
      expect(dockerfile).toContain(`npm pkg delete "devDependencies.${name}" && npm ci`);
    }
    expect(root.devDependencies).toEqual(devDependencies);
    for (const name of Object.keys(pkg.dependencies as object)) {
      expect(lock.packages[`node_modules/${name}`], name).toBeDefined();
    }
  });

  it("tsconfig.docker.json has the monorepo base settings and compiles the app", () => {
    const base = json("../../tsconfig.base.json").compilerOptions as Record<string, unknown>;
    const docker = json("tsconfig.docker.json").compilerOptions as Record<string, unknown>;
    expect(docker).toMatchObject(base);
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.docker.json", "--noEmit"], {
      cwd: pkgDir,
      stdio: "pipe",
    });
  });
});
