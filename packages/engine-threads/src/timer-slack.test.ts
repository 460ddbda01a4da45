import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { withTimerSlack } from './timer-slack.js';

const PATH = '/proc/self/timerslack_ns';
const slack = () => Number(readFileSync(PATH, 'utf8'));

describe.skipIf(!existsSync(PATH))('timer slack of created workers (Linux)', () => {
  it('is set while the workers are created and restored after', () => {
    const before = slack();
    const during = withTimerSlack(before === 1234 ? 4321 : 1234, () => slack());
    expect(during).toBe(before === 1234 ? 4321 : 1234);
    expect(slack()).toBe(before);
    // undefined: untouched
    expect(withTimerSlack(undefined, () => slack())).toBe(before);
  });

  it('is restored when creating throws', () => {
    const before = slack();
    expect(() =>
      withTimerSlack(2000, () => {
        throw new Error('no worker');
      }),
    ).toThrow('no worker');
    expect(slack()).toBe(before);
  });

  it('is inherited by a worker created inside', async () => {
    // The worker reports the slack of its own Linux thread: the one task of this process whose
    // slack differs from the main thread's after creation.
    const before = slack();
    const worker = withTimerSlack(
      7777,
      () =>
        new Worker(
          `const { readdirSync, readFileSync } = require('node:fs');
           const { parentPort } = require('node:worker_threads');
           const tasks = readdirSync('/proc/self/task');
           parentPort.postMessage(tasks.map((t) => Number(readFileSync('/proc/' + t + '/timerslack_ns', 'utf8').trim() || 'NaN')));`,
          { eval: true },
        ),
    );
    const slacks = await new Promise<number[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(slack()).toBe(before);
    expect(slacks).toContain(7777);
  });
});
