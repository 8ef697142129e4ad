import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Database and queue libraries stay plain Node modules; Pulumi (@platform/infra) is never imported by the
  // web app (only the worker, a separate process, runs operations).
  serverExternalPackages: ["@platform/db", "@prisma/client", "@prisma/adapter-pg", "pg", "pg-boss"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
