import { describe, expect, it } from 'vitest';
import { isPlainData, resolveComponent } from './components.js';
import { AssemblyError } from './errors.js';
import * as hostileModule from './hostile-components.js';

describe('components as plain-data references', () => {
  it('plain data is what structured clone and JSON carry unchanged', () => {
    expect(isPlainData({ a: [1, 'x', true, null, { b: 2 }] })).toBe(true);
    expect(isPlainData({ f: () => 1 })).toBe(false);
    expect(isPlainData({ m: new Map() })).toBe(false);
    expect(isPlainData({ u: undefined })).toBe(false);
    expect(isPlainData(new Uint8Array(2))).toBe(false);
  });

  it('resolves a known factory and refuses unknown ones and live configuration', () => {
    const config = {
      devices: [],
      sessions: [],
      manager: 1,
      translationCache: { vaddr: 0x2800_0000, entries: 64 },
    };
    expect(
      typeof resolveComponent({
        module: '@udf/driver-dp83820',
        export: 'dp83820DriverServer',
        config,
      }),
    ).toBe('function');
    expect(() => resolveComponent({ module: '@udf/nope', export: 'x', config })).toThrow(
      AssemblyError,
    );
    expect(() =>
      resolveComponent({
        module: '@udf/driver-dp83820',
        export: 'dp83820DriverServer',
        config: { ...config, translation: () => null },
      }),
    ).toThrow(/not plain data/);
  });

  it('the manager, the stack server, the socket echo and its kernel half are plain-data references too', () => {
    for (const [module, name] of [
      ['@udf/dataspace', 'dataspaceManagerServer'],
      ['@udf/lwip-lite', 'stackServer'],
      ['@udf/lwip-lite', 'socketEcho'],
      ['@udf/lwip-lite', 'socketKernelHalf'],
    ] as const) {
      const config = {
        pool: { vaddr: 0x1000_0000, bytes: 4096 },
        memorySource: 1,
        supervisor: 2,
        counters: { vaddr: 0x0f00_0000, prefix: 'x' },
        scanInterval: 1000,
        pinQuota: { maxPinnedPages: 1, maxPinCycles: 1 },
        costs: {},
        stack: 3,
        key: 'stack0',
        userBuffer: { vaddr: 0x0f10_0000, bytes: 4096 },
        sessions: [],
      };
      expect(typeof resolveComponent({ module, export: name, config })).toBe('function');
    }
  });

  it('the hostile components resolve under their subpath module and the package, and the subpath exports them', async () => {
    const config = {
      devices: [],
      sessions: [],
      manager: 1,
      translationCache: { vaddr: 0x2800_0000, entries: 64 },
      hostile: { startSeconds: 0.001, everySeconds: 0.001, acts: 1, garbage: 1 },
    };
    for (const module of ['@udf/system/hostile-components', '@udf/system'])
      for (const name of ['hostileStackServer', 'hostileDriverServer'])
        expect(typeof resolveComponent({ module, export: name, config })).toBe('function');
    expect(() =>
      resolveComponent({ module: '@udf/system', export: 'hostileNothing', config }),
    ).toThrow(AssemblyError);
    // what a threads-engine worker imports: the subpath resolves to the same module
    const viaPackage = (await import('@udf/system/hostile-components')) as Record<string, unknown>;
    expect(viaPackage.hostileStackServer).toBe(hostileModule.hostileStackServer);
    expect(viaPackage.hostileDriverServer).toBe(hostileModule.hostileDriverServer);
  });
});
