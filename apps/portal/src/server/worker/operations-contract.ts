// The operations API of @platform/infra, as the worker uses it. Type-only imports: nothing of Pulumi is
// loaded until the worker creates the real operations (see operations.ts).
export type {
  EnvironmentOperations,
  EnvironmentRef,
  EnvironmentSpec,
  NetworkOperations,
  NetworkRef,
  NetworkSpec,
  OperationEvent,
  OperationResult,
  RunOptions,
} from "@platform/infra/types";
