/**
 * Dataspaces for the udf driver framework (paper sections 3 and 4.4): the dataspace protocol
 * and its client library, an anonymous-memory dataspace manager, region mappers that resolve
 * page faults on attached dataspaces, driver–client sessions with allocation-free buffer
 * validation, and the translation cache a manager shares with a driver, with pin bits, pin
 * quotas and time-based pins.
 *
 * @packageDocumentation
 */
export {
  AnonymousManager,
  type AnonymousManagerOptions,
  anonymousManager,
  type DataspaceManagerServerConfig,
  dataspaceManagerServer,
  type FramePool,
  type PinQuota,
} from './anonymous-manager.js';
export type { DataspaceCall } from './call.js';
export { type Dataspace, dsClient, request, statusError } from './client.js';
export { DATASPACE_COSTS, type DataspaceCosts, resolveCosts } from './costs.js';
export {
  COUNTERS_PAGE_BYTES,
  COUNTERS_PAGE_MAGIC,
  COUNTERS_VALUES_OFFSET,
  CountersPage,
  type CountersSnapshot,
  readCountersPage,
} from './counters-page.js';
export { DataspaceError, type DataspaceErrorCode } from './errors.js';
export { FrameAllocator } from './frame-allocator.js';
export {
  IommuDomain,
  type IommuDomainConfig,
  type IommuDomainStats,
  IommuEntries,
} from './iommu-domain.js';
export {
  IOMMU_HEADER_BYTES,
  IOMMU_READ,
  IOMMU_TABLE_MAGIC,
  IOMMU_WRITE,
  IommuTable,
} from './iommu-table.js';
export { callAccepting, WHOLE_SPACE_WINDOW } from './ipc.js';
export { MEMORY_SOURCE_LABEL, MemorySourceStatus, requestRegion } from './memory-source.js';
export { isUint32, MAX_REFERENCE_END, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, pagesFor } from './page.js';
export {
  DS_ACCESS_READ,
  DS_ACCESS_WRITE,
  DS_RIGHT_READ,
  DS_RIGHT_TRANSLATE,
  DS_RIGHT_WRITE,
  DS_RIGHTS_ALL,
  DsLabel,
  DsStatus,
  MANAGER_STATS_FIELDS,
  type ManagerStats,
} from './protocol.js';
export {
  onDemandRefill,
  prefillOnAdd,
  type RefillPolicy,
  readAheadRefill,
} from './refill-policy.js';
export {
  FAULT_ACCESS_WRITE,
  type Region,
  RegionLabel,
  RegionMap,
  RegionMapper,
  type RegionMapperOptions,
  type RegionMapperStats,
  regionMapper,
  rmClient,
} from './region-mapper.js';
export {
  Session,
  type SessionDataspace,
  type SessionOptions,
  VALIDATION_STATUS_COUNT,
  ValidationStatus,
} from './session.js';
export { SESSION_OPEN_LABEL, SESSION_OPEN_OK, SESSION_OPEN_REFUSED } from './session-open.js';
export {
  DRIVER_DISABLE_LABEL,
  DRIVER_DISABLED_LABEL,
  DRIVER_RECOVER_LABEL,
  SESSIONS_OPENED_LABEL,
  SUPERVISOR_OK,
  SUPERVISOR_REFUSED,
} from './supervisor-protocol.js';
export {
  TranslationCache,
  type TranslationCacheOptions,
  type TranslationStats,
} from './translation-cache.js';
export {
  ENTRY_PIN,
  ENTRY_VALID,
  ENTRY_WRITABLE,
  PinPolicy,
  TABLE_STATE_ACTIVE,
  TABLE_STATE_DISABLED,
  TRANSLATION_ENTRY_BYTES,
  TRANSLATION_HEADER_BYTES,
  TRANSLATION_TABLE_MAGIC,
  TranslationTable,
} from './translation-table.js';
export { revokeMappings } from './unmap.js';
