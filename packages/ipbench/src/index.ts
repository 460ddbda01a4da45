/**
 * `@udf/ipbench` — ipbench-compatible UDP echo load generation, target CPU metering, ramps over
 * offered load, and reports (table, CSV, JSON, SVG charts), on the sim engine's virtual clock or
 * in real time, plus ipbench's controller↔daemon line protocol.
 *
 * SVG charts live in the optional subpath `@udf/ipbench/charts` (install `vega` and `vega-lite`
 * beside it); this entry point never loads them.
 *
 * @packageDocumentation
 */

export { type Clock, EventClock, RealClock, type Scheduled } from './clock.js';
export { DutyCycleLoad, type DutyCycleLoadOptions } from './cpu/duty-cycle.js';
export { IdleLoopCpuMeter, type IdleLoopOptions, idleLoopUtilisation } from './cpu/idle-loop.js';
export {
  type CpuReading,
  type CycleAccounting,
  IdleAccountingCpuMeter,
  type TargetCpuMeter,
} from './cpu/meter.js';
export {
  currentThreadId,
  parseSchedstat,
  type Schedstat,
  SchedstatCpuMeter,
  type SchedstatOptions,
} from './cpu/schedstat.js';
export { EchoTarget, type EchoTargetOptions } from './echo-target.js';
export { IpbenchError, type IpbenchErrorCode } from './errors.js';
export { WIRE_OVERHEAD_BYTES } from './frames.js';
export {
  type ClientResult,
  type ClientRun,
  type LoadClient,
  LoadEngine,
  type ProbeSender,
  type ResolvedRun,
  RUN_DEFAULTS,
  resolveRun,
} from './load.js';
export { PROBE_HEADER_LEN, probeIntact, probeSeq, probeTimestamp, writeProbe } from './probe.js';
export {
  formatIpbenchLatencyArgs,
  formatLatencyArgs,
  type IpbenchLatencyArgs,
  LATENCY_DEFAULTS,
  LATENCY_LIMITS,
  parseLatencyArgs,
} from './protocol/args.js';
export {
  CONTROLLER_LIMITS,
  DaemonConnection,
  type DaemonConnectionOptions,
  RemoteClient,
  type RemoteClientOptions,
  RemoteCpuMeter,
  type RemoteCpuMeterOptions,
  resetDaemon,
} from './protocol/controller.js';
export {
  ClientDaemon,
  type ClientTest,
  type ClientTestFactory,
  cpuTargetTest,
  DAEMON_LIMITS,
  type Daemon,
  type DaemonOptions,
  idleLoopCpuTarget,
  type Marshalled,
  parseCpusArg,
  TargetDaemon,
  type TargetTest,
  type TargetTestFactory,
  type TestSetup,
  udpLatencyTest,
} from './protocol/daemon.js';
export {
  decodeCpuTarget,
  decodeLatencyResult,
  encodeCpuTarget,
  encodeLatencyResult,
} from './protocol/marshall.js';
export {
  CLIENT_DAEMON_PORT,
  parseStatusLine,
  STATUS_TEXT,
  type StatusCode,
  type StatusReply,
  statusLine,
  TARGET_DAEMON_PORT,
} from './protocol/status.js';
export {
  type ClientSummary,
  DEFAULT_LOADS_MBPS,
  Ramp,
  type RampOptions,
  type RampResult,
  type RampStep,
  summarise,
} from './ramp.js';
export { CPU_COLUMNS, csvRow, IPBENCH_COLUMNS, toCsv } from './report/csv.js';
export { type IpbenchOutputOptions, ipbenchLine, toIpbenchOutput } from './report/ipbench.js';
export { toJson } from './report/json.js';
export { formatTable } from './report/table.js';
export { type FrameEndpoint, SimClient, type SimClientOptions } from './sim-client.js';
export {
  EMPTY_RTT_STATS,
  type IpbenchRttStats,
  ipbenchRttStats,
  poolSamples,
  printfFixed2,
  type RttStats,
  rttStats,
} from './stats.js';
export { UdpClient, type UdpClientOptions } from './udp-client.js';
