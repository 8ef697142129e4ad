export * from "./client.js";
export * from "./embedded-postgres.js";
export * from "./migrate.js";
