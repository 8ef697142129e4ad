#!/usr/bin/env node
// Regenerates docker/package-lock.json: the lockfile the Docker build uses with `npm ci`. The image is
// built with this folder as its context, so it cannot see the monorepo's root lockfile. Run after
// changing dependencies in package.json (a test fails while the two disagree).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), "voting-app-lock-"));
try {
  // Workspace-only dev dependencies (@platform/*, used by the tests) are not on the registry; the Dockerfile
  // deletes them from package.json before `npm ci`, so the lockfile leaves them out too.
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  for (const name of Object.keys(pkg.devDependencies ?? {})) {
    if (name.startsWith("@platform/")) delete pkg.devDependencies[name];
  }
  writeFileSync(path.join(tmp, "package.json"), JSON.stringify(pkg, null, 2));
  execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: tmp,
    stdio: "inherit",
  });
  copyFileSync(path.join(tmp, "package-lock.json"), path.join(pkgDir, "docker", "package-lock.json"));
  console.log("wrote docker/package-lock.json");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
