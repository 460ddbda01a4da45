import { describe, expect, it } from 'vitest';
import * as bodies from './bodies.js';
import { buildComponent, CONFORMANCE_MODULE, component } from './harness.js';

describe('conformance bodies', () => {
  it('the registry holds exactly the body factories the module exports (what a worker imports)', () => {
    const exported = Object.entries(bodies)
      .filter(([name, v]) => typeof v === 'function' && name !== 'mapItem')
      .map(([name]) => name)
      .sort();
    expect(Object.keys(bodies.CONFORMANCE_BODIES).sort()).toEqual(exported);
  });

  it('builds a body from a reference, and refuses other modules, unknown names and non-plain config', () => {
    expect(typeof buildComponent(component('sleepForever'))).toBe('function');
    expect(() =>
      buildComponent({ module: './elsewhere.js', export: 'sleepForever', config: {} }),
    ).toThrow(/no conformance body/);
    expect(() =>
      buildComponent({
        module: CONFORMANCE_MODULE,
        export: 'toString' as 'sleepForever',
        config: {},
      }),
    ).toThrow(/no conformance body/);
    expect(() => buildComponent(component('sleepThenExit', { seconds: () => 1 }))).toThrow();
  });
});
