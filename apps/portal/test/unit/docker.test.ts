// No Docker engine on these machines, so the portal's image cannot be built here. These checks keep the
// Dockerfile honest by construction: its stages and user, that it copies only what exists and is not ignored,
// that every workspace's manifest reaches `npm ci`, and that the Pulumi CLI and plugins it installs match
// what the code needs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const portalDir = fileURLToPath(new URL("..", new URL("..", import.meta.url)));
const repo = path.resolve(portalDir, "../..");
const read = (p: string) => readFileSync(path.join(repo, p), "utf8");
const json = (p: string) => JSON.parse(read(p)) as Record<string, unknown>;

const dockerfile = read("apps/portal/Dockerfile");
const ignored = read("apps/portal/Dockerfile.dockerignore")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

interface Stage {
  name: string;
  base: string;
  lines: string[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  for (const raw of dockerfile.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    const from = /^FROM (\S+)(?: AS (\S+))?$/.exec(line);
    if (from) out.push({ base: from[1] ?? "", name: from[2] ?? "", lines: [] });
    else if (line && !line.startsWith("#")) out.at(-1)?.lines.push(line);
  }
  return out;
}

/** Is `p` (a path in the build context) left out by the ignore file? (The patterns used there: `**\/x`, `x`.) */
function isIgnored(p: string): boolean {
  const parts = p.split("/");
  return ignored.some((pattern) =>
    pattern.startsWith("**/")
      ? parts.includes(pattern.slice(3)) || (pattern.includes("*.") && p.endsWith(pattern.slice(4)))
      : p === pattern || p.startsWith(`${pattern}/`),
  );
}

describe("the portal's Dockerfile", () => {
  it("is multi-stage: dependencies, build, the Pulumi CLI, and a runtime that runs as the unprivileged node user", () => {
    const s = stages();
    expect(s.map((x) => x.name)).toEqual(["deps", "build", "pulumi", "runtime"]);
    const runtime = s.at(-1) as Stage;
    expect(runtime.base).toBe(["$", "{NODE_IMAGE}"].join(""));
    const users = runtime.lines.filter((l) => l.startsWith("USER "));
    expect(users).toEqual(["USER node"]);
    // Nothing after USER runs as root again, and the command comes after it.
    const userAt = runtime.lines.indexOf("USER node");
    expect(runtime.lines.slice(userAt).some((l) => l.startsWith("RUN "))).toBe(false);
    expect(runtime.lines.at(-1)).toBe('CMD ["node", "--import", "tsx", "src/server/main.ts"]');
    // The runtime copies the build's output, not the build's tools.
    expect(runtime.lines.filter((l) => l.startsWith("COPY")).every((l) => l.includes("--from="))).toBe(true);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it("serves the web and the worker from one image: PORTAL_ROLE chooses, the web listens beyond loopback", () => {
    expect(dockerfile).toMatch(/LISTEN_HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*PORTAL_ROLE === 'worker'[\s\S]*\/api\/live/m);
    // main.ts reads PORTAL_ROLE (web, worker, all).
    expect(readFileSync(path.join(portalDir, "src/server/main.ts"), "utf8")).toMatch(/PORTAL_ROLE/);
    expect(existsSync(path.join(portalDir, "src/server/main.ts"))).toBe(true);
  });

  it("copies only files that exist in the context and are not ignored", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/).filter((x) => !x.startsWith("--")),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      if (src === ".") continue;
      expect(src.startsWith("..") || src.startsWith("/"), src).toBe(false);
      expect(existsSync(path.join(repo, src)), src).toBe(true);
      expect(isIgnored(src), src).toBe(false);
    }
    for (const never of ["node_modules", "apps/portal/.next", ".data", ".git", "packages/infra/dist"]) {
      expect(isIgnored(never), never).toBe(true);
    }
  });

  it("gives npm ci every workspace's package.json (a new workspace must be added here)", () => {
    const pkg = json("package.json") as { workspaces: string[] };
    const workspaces = pkg.workspaces.flatMap((w) =>
      w.endsWith("/*")
        ? readdirSync(path.join(repo, w.slice(0, -2)), { withFileTypes: true })
            .filter(
              (d) => d.isDirectory() && existsSync(path.join(repo, w.slice(0, -2), d.name, "package.json")),
            )
            .map((d) => `${w.slice(0, -2)}/${d.name}`)
        : [w],
    );
    const deps = stages()[0] as Stage;
    for (const w of workspaces) {
      expect(deps.lines, w).toContain(`COPY ${w}/package.json ${w}/`);
    }
    // Install scripts that run during npm ci find their files.
    const infra = json("packages/infra/package.json") as { scripts: Record<string, string> };
    expect(infra.scripts.postinstall).toMatch(/scripts\/ensure-pulumi-cli\.sh/);
    expect(deps.lines).toContain("COPY packages/infra/scripts packages/infra/scripts");
  });

  it("installs a Pulumi CLI at least as new as the SDK, and the plugins of every Pulumi package infra uses", () => {
    const infra = json("packages/infra/package.json") as { dependencies: Record<string, string> };
    const sdk = infra.dependencies["@pulumi/pulumi"] as string;
    const cli = /^ARG PULUMI_VERSION=(\S+)$/m.exec(dockerfile)?.[1] as string;
    const version = (v: string) =>
      v
        .replace(/^[^\d]*/, "")
        .split(".")
        .map(Number);
    const [a, b] = [version(cli), version(sdk)];
    expect(
      a[0] === b[0] &&
        (a[1] as number) * 1000 + (a[2] as number) >= (b[1] as number) * 1000 + (b[2] as number),
    ).toBe(true);
    const plugins = /for pkg in ([a-z ]+); do/.exec(dockerfile)?.[1]?.trim().split(" ").sort();
    const resourcePackages = Object.keys(infra.dependencies)
      .filter((d) => d.startsWith("@pulumi/") && d !== "@pulumi/pulumi")
      .map((d) => d.slice("@pulumi/".length))
      .sort();
    expect(plugins).toEqual(resourcePackages);
    // The worker finds them: the CLI where the operations look for it, the plugins in PULUMI_HOME.
    expect(dockerfile).toMatch(/PULUMI_CLI_ROOT=\/opt\/pulumi\b/);
    expect(dockerfile).toMatch(/PULUMI_HOME=\/opt\/pulumi-home\b/);
  });

  it("trusts the RDS certificate authorities, so the database connection is verified (DATABASE_SSLMODE=verify-full)", () => {
    expect(dockerfile).toMatch(/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem/);
    expect(dockerfile).toMatch(/NODE_EXTRA_CA_CERTS=\/etc\/ssl\/certs\/rds-global-bundle\.pem/);
  });
});
