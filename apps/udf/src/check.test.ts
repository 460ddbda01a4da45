// The memory figures `udf validate` demands are exact: the assembler starts the system with them
// and fails with one page less. Checked by building every shipped placement both ways.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSystem, runStep, type SystemDescriptionInput } from '@udf/system';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkDescription, closest, memoryNeeds } from './check.js';

const STEP = {
  loadMbps: 10,
  holdoffUs: 100,
  durationMs: 0.5,
  warmupMs: 0,
  packetSize: 1024,
  ipcScale: 1,
};
const shipped = (name: string): SystemDescriptionInput =>
  parseYaml(readFileSync(resolve(import.meta.dirname, `../../${name}/system.yaml`), 'utf8'));
const manager = (doc: SystemDescriptionInput) =>
  doc.domains.flatMap((d) => d.components).find((c) => c.kind === 'dataspace-manager') as {
    pages?: number;
  };
const starts = async (doc: SystemDescriptionInput) => {
  try {
    await runStep(parseSystem(doc), STEP);
    return 'started';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('memoryNeeds', () => {
  it.each([
    'isolated',
    'clustered',
    'embedded',
    'monolithic',
  ])('%s: the manager pages it names start the system, one page less does not', async (name) => {
    const doc = shipped(name);
    const need = memoryNeeds(parseSystem(doc)).managerPages;
    manager(doc).pages = need;
    expect(checkDescription(parseSystem(doc), name)).toEqual([]);
    expect(await starts(doc)).toBe('started');
    manager(doc).pages = need - 1;
    expect(checkDescription(parseSystem(doc), name).join('\n')).toMatch(/pages are too few/);
    expect(await starts(doc)).toMatch(/manager replied status 2/);
  });

  it.each([
    'isolated',
    'clustered',
  ])('%s: physical memory is exact to the page (pool chosen to fill whole MiB)', async (name) => {
    const doc = shipped(name);
    const needs = memoryNeeds(parseSystem(doc));
    // Choose the pool so that the system needs exactly 20 MiB of frames.
    const other = needs.physicalPages(0);
    manager(doc).pages = 20 * 256 - other;
    doc.machine = { memoryMiB: 20 };
    expect(needs.physicalPages(20 * 256 - other)).toBe(20 * 256);
    expect(checkDescription(parseSystem(doc), name)).toEqual([]);
    expect(await starts(doc)).toBe('started');
    manager(doc).pages = 20 * 256 - other + 1;
    expect(checkDescription(parseSystem(doc), name).join('\n')).toMatch(
      /20 MiB is too little: .* need 5121 pages; set memoryMiB: 21/,
    );
    expect(await starts(doc)).toMatch(/cannot allocate/);
  });
});

describe('closest', () => {
  it('suggests near names only', () => {
    expect(closest('holdoff', ['name', 'holdoffUs', 'irq'])).toBe('holdoffUs');
    expect(closest('nic1', ['nic0'])).toBe('nic0');
    expect(closest('zzzzzz', ['isolated', 'clustered'])).toBeUndefined();
  });
});
