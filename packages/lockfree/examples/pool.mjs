// Buffers are exchanged by reference: descriptors carry buffer ids, never bytes.
// Run: node examples/pool.mjs
import { BufferPool } from '@udf/lockfree';

const sab = new SharedArrayBuffer(BufferPool.byteLength(64, 2048));
const driver = new BufferPool(sab, 0, 64, 2048); // each side attaches its own object
driver.reset(); // once, by the owner, before sharing: every id goes on the free ring
const client = new BufferPool(sab, 0, 64, 2048); // in real use: in another worker

const id = driver.alloc(); // -1 when none is free
driver.buffer(id).set([0xde, 0xad]); // a preallocated Uint8Array view, no copy
driver.handOff(id); // ...and send `id` in a descriptor

// the client, on receiving a descriptor:
if (client.claim(id)) {
  console.log(`client reads ${client.buffer(id)[0].toString(16)} from buffer ${id}`);
  console.log(`first free: ${client.free(id)}`); // true: back on the free ring
  console.log(`second free: ${client.free(id)}`); // false: a double free, refused
}
console.log(
  `double frees counted: ${client.stats.doubleFrees}, free buffers: ${driver.available()}`,
);
