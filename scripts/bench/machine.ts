import { availableParallelism, cpus, platform, release, totalmem } from "node:os";

/** The machine a run was measured on: figures mean little without it. */
export interface MachineInfo {
  readonly nproc: number;
  readonly cpu: string;
  readonly node: string;
  readonly os: string;
  readonly memGiB: number;
}

export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    os: `${platform()} ${release()}`,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}
