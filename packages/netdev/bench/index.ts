// Session overhead: descriptors per wall second through a NetSession (tx submit → driver take →
// completion → client poll) against the same traffic on a bare SpscRing pair, side by side.
import { SpscRing } from '@udf/lockfree';
import { DESC_WORDS, NetSessionClient, NetSessionDriver, netSessionLayout } from '../src/index.js';

const N = 2_000_000;
const CAP = 256;

function session(): number {
  const layout = netSessionLayout(CAP);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  const client = new NetSessionClient({ buffer, byteOffset: 0, capacity: CAP });
  const driver = new NetSessionDriver({ buffer, byteOffset: 0, capacity: CAP });
  const d = new Uint32Array(DESC_WORDS);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    client.submitTx(1, i & 0xffff, 1066);
    client.shouldNotify(1);
    driver.takeTx(d);
    driver.completeTx(d[0]!, d[1]!, d[2]!, 0);
    client.pollTxDone(d);
  }
  return N / ((performance.now() - t0) / 1000);
}

function rings(): number {
  const bytes = SpscRing.byteLength(CAP, DESC_WORDS);
  const a = new SharedArrayBuffer(bytes);
  const b = new SharedArrayBuffer(bytes);
  const req = new SpscRing(a, 0, CAP, DESC_WORDS);
  const done = new SpscRing(b, 0, CAP, DESC_WORDS);
  const d = new Uint32Array(DESC_WORDS);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    d[0] = 1;
    d[1] = i & 0xffff;
    d[2] = 1066;
    d[3] = 0;
    req.push(d);
    req.pop(d);
    done.push(d);
    done.pop(d);
  }
  return N / ((performance.now() - t0) / 1000);
}

rings(); // warm up the JIT for both paths before measuring
session();
const s = session();
const r = rings();
console.log(
  '@udf/netdev bench: tx descriptor round trips (submit, take, complete, poll), one thread',
);
console.log(`  NetSession      ${(s / 1e6).toFixed(2)} M/s`);
console.log(`  bare SpscRings  ${(r / 1e6).toFixed(2)} M/s`);
console.log(`  session/rings   ${(s / r).toFixed(2)}`);
