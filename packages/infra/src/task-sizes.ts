// Fargate task sizes: the valid CPU/memory pairs and the program's defaults. Plain data (no Pulumi, no Node
// APIs), shared by the AWS program and the cost estimate, which the portal also runs in the browser.

/** Fargate's valid CPU units → memory (MiB) combinations. */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export interface TaskSizeValue {
  /** CPU units (1024 = 1 vCPU). */
  cpu: number;
  /** MiB. */
  memory: number;
}

/** What every frontend and Redis task gets unless the environment says otherwise: 0.25 vCPU, 0.5 GB. */
export const DEFAULT_TASK_SIZE: Readonly<TaskSizeValue> = { cpu: 256, memory: 512 };
