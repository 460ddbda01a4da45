import { UdfError } from '@udf/lockfree';
import { describe, expect, it } from 'vitest';
import { IpbenchError } from './errors.js';

describe('IpbenchError', () => {
  it('is a UdfError with a stable code and its own name', () => {
    const e = new IpbenchError('IPBENCH_BUSY', 'busy');
    expect(e).toBeInstanceOf(UdfError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('IPBENCH_BUSY');
    expect(e.name).toBe('IpbenchError');
  });
});
