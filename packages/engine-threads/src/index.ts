/**
 * The threads engine of udf: the same `Sys` components as the sim engine, on real parallel
 * threads. One `worker_thread` per protection domain; the domain's threads are generators
 * scheduled cooperatively inside it; IPC runs over shared-memory control blocks with `Atomics`,
 * without the main thread on the path.
 *
 * @packageDocumentation
 */
export { CycleClock, sharedNowMs } from './clock.js';
export { type ComponentRef, loadComponent } from './component.js';
export {
  CONTROL_BLOCK_BYTES,
  ControlBlocks,
  FLAG_CALL,
  FLAG_MISSED,
  FLAG_OVERFLOW,
  FLAG_SLEEPING,
  FLAG_WINDOW,
  kernelRegionBytes,
  LOCK_OWNER_DEVICES,
  LOCK_OWNER_MAIN,
  MESSAGE_WORDS,
  RESULT_RECEIVE_PHASE,
  ResultCode,
  ThreadState,
  type ThreadStateValue,
} from './control-blocks.js';
export {
  CounterBoard,
  counterBoardBytes,
  DOMAIN_COUNTER_NAMES,
  type DomainCounters,
  PUBLISH_STEPS,
} from './counter-board.js';
export { RealTimeHost } from './device-host.js';
export {
  type DeviceId,
  type DeviceOptions,
  type DomainId,
  type DomainOptions,
  type ThreadOptions,
  type ThreadStateName,
  ThreadsEngine,
  type ThreadsEngineOptions,
  type ThreadsThreadInfo,
} from './engine.js';
export {
  ThreadFailedError,
  type ThreadFailureKind,
  ThreadsEngineError,
  type ThreadsEngineErrorCode,
} from './errors.js';
export {
  type AttachResult,
  type InterruptCounters,
  InterruptTable,
  IRQ_ASSERTED,
  IRQ_DELIVERED,
  IRQ_MASKED,
  IRQ_QUEUED,
  interruptTableBytes,
  MAX_IRQ_LINES,
} from './interrupts.js';
export {
  BLOCKED,
  type Blocked,
  EMPTY_MESSAGE,
  type IpcCounters,
  IpcPath,
  ipcError,
} from './ipc.js';
export {
  type KernelRequest,
  kernelLinkBytes,
  LINK_FLAG,
  LINK_GEN,
  LINK_RESULT,
  LINK_WORDS,
  type SlowPath,
  WorkerSlowPath,
} from './kernel-link.js';
export {
  ADDRESS_LIMIT,
  MappingDb,
  type MappingDbCounters,
  type MemoryUpdate,
  PAGE_BYTES,
  type RegionInfo,
  validFpage,
} from './mapping-db.js';
export {
  DomainDevices,
  DomainMemory,
  type MemoryLink,
  type PageEntry,
  type PageFault,
  type RegionGrant,
} from './memory.js';
export {
  DEVICE_BELL_RING,
  DEVICE_BELL_SLEEPING,
  drainMmioRing,
  emptyMmioCounters,
  fenceMmioRing,
  MMIO_RING_BYTES,
  MMIO_RING_ENTRIES,
  type MmioDrainCounters,
  MmioWindow,
  type MmioWindowCounters,
  markMmioRingDead,
  mirrorPageWord,
  ringDeviceBell,
  STATUS_PAGE_BYTES,
  STATUS_WORDS,
  statusPageWord,
} from './mmio-ring.js';
export { FRAME_BYTES, type PhysicalRegion, SharedPhysicalMemory } from './physical-memory.js';
export type {
  DeviceMapping,
  DeviceWorkerData,
  DeviceWorkerReport,
  DomainWorkerData,
  WorkerReport,
} from './protocol.js';
export {
  DomainScheduler,
  ROOT_STEPS_PER_TURN,
  type SchedulerCounters,
  type SchedulerExit,
  type SchedulerOptions,
} from './scheduler.js';
export { type CallRecord, createThreadSys, WHOLE_SPACE } from './thread-sys.js';
export { DEFAULT_WORKER_TIMER_SLACK_NS, withTimerSlack } from './timer-slack.js';
export {
  linkPorts,
  type UdpAddress,
  UdpWire,
  type WireCounters,
  type WireSpec,
} from './wire.js';
