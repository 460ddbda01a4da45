import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSystem, parseSystemText, resolveSessions, SystemDescriptionError } from './load.js';

const apps = resolve(import.meta.dirname, '../../../apps');
const descriptions = readdirSync(apps)
  .filter((d) => d !== 'udf')
  .map((d) => join(apps, d, 'system.yaml'));

const minimal = `
name: t
nics: [{ name: nic0, model: dp83820, irq: 11, mac: "02:00:00:00:00:01" }]
domains:
  - { name: memory, priority: 150, components: [{ kind: dataspace-manager }] }
  - { name: driver, priority: 200, components: [{ kind: dp83820-driver, nics: [nic0] }] }
  - name: stack
    priority: 100
    components: [{ kind: ip-stack, nic: nic0, ip: 10.0.0.1 }, { kind: udp-echo }]
`;

function issuesOf(text: string) {
  try {
    parseSystemText(text, 'test');
  } catch (e) {
    expect(e).toBeInstanceOf(SystemDescriptionError);
    expect((e as SystemDescriptionError).code).toBe('SYSTEM_DESCRIPTION_INVALID');
    return (e as SystemDescriptionError).issues;
  }
  throw new Error('description was accepted');
}

describe('system descriptions', () => {
  it.each(descriptions)('%s validates and has a session per NIC', (file) => {
    const sys = loadSystem(file);
    const sessions = resolveSessions(sys);
    expect(sessions.map((s) => s.nic).sort()).toEqual(sys.nics.map((n) => n.name).sort());
  });

  it('fills defaults: 100 µs hold-off, 1024-byte packets, four clients, the paper ramp', () => {
    const sys = parseSystemText(minimal);
    expect(sys.nics[0]!.holdoffUs).toBe(100);
    expect(sys.load.packetSize).toBe(1024);
    expect(sys.load.clientsPerNic).toBe(4);
    expect(sys.machine.hz).toBe(2.66e9);
  });

  it('names the field and the expectation for a wrong type', () => {
    const issues = issuesOf(minimal.replace('priority: 200', 'priority: high'));
    expect(issues).toContainEqual({ path: 'domains[1].priority', message: 'expected number' });
  });

  it('rejects a hold-off the IHR register cannot express', () => {
    const issues = issuesOf(minimal.replace('irq: 11,', 'irq: 11, holdoffUs: 150,'));
    expect(issues[0]!.path).toBe('nics[0].holdoffUs');
    expect(issues[0]!.message).toMatch(/multiple of 100/);
  });

  it('rejects a driver for an undeclared NIC, naming the list entry', () => {
    const issues = issuesOf(minimal.replace('nics: [nic0] }', 'nics: [nic9] }'));
    expect(issues.map((i) => i.path)).toContain('domains[1].components[0].nics[0]');
    expect(issues.find((i) => i.path === 'domains[1].components[0].nics[0]')!.message).toMatch(
      /unknown NIC "nic9"/,
    );
  });

  it('rejects unknown fields and unknown component kinds', () => {
    expect(issuesOf(minimal.replace('name: t', 'name: t\nspeed: 3'))[0]).toEqual({
      path: '',
      message: 'unknown field(s) "speed"',
    });
    const kinds = issuesOf(minimal.replace('kind: udp-echo', 'kind: tcp-echo'));
    expect(kinds[0]!.path).toBe('domains[2].components[1].kind');
  });

  it('reports a missing field as missing', () => {
    const issues = issuesOf(minimal.replace('irq: 11, ', ''));
    expect(issues[0]).toEqual({
      path: 'nics[0].irq',
      message: 'expected number (field is missing)',
    });
  });

  it('reports YAML syntax errors and unreadable files as description errors', () => {
    expect(issuesOf('name: [unclosed')[0]!.message).toMatch(/not valid YAML/);
    expect(() => loadSystem('/nonexistent/system.yaml')).toThrow(/cannot read file/);
  });
});
