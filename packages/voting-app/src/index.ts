// Programmatic API (tests, the local target, embedding).
export { type RunningApp, startApp } from "./app.js";
export { type AppConfig, ConfigError, EnvSchema, loadConfig, type RedisConfig } from "./config.js";
export { createServer, type ServerOptions } from "./http/server.js";
export { type OptionCount, StoreUnavailableError, type Tally, VoteStore } from "./store/vote-store.js";
