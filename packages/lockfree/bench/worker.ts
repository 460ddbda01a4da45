// Worker side of bench/index.ts: ring producer/consumer and postMessage producer/consumer.
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { Notifier, SpscRing, sleepUntil, wake } from '../src/index.js';
import {
  type CompareJob,
  now,
  type PostJob,
  type RingJob,
  ringLayout,
  SLOT_WORDS,
} from './shared.js';

function ringProducer(job: RingJob) {
  const { ring, dataBit, spaceBit } = ringLayout(job.sab, job.capacity);
  const notifier = new Notifier(dataBit, job.policy);
  const src = new Uint32Array(job.batch * SLOT_WORDS);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let woken = 0;
  let seq = 0;
  const start = now();
  while (seq < job.items) {
    if (job.rate > 0) {
      const due = start + (seq * 1000) / job.rate;
      const t = now();
      if (t < due) {
        if (notifier.onDry()) woken += wake(dataBit);
        if (due - t > 0.2) Atomics.wait(pause, 0, 0, due - t - 0.1);
        while (now() < due) {
          // spin for the last fraction of a millisecond: Atomics.wait is too coarse
        }
      }
    }
    const k = Math.min(job.batch, job.items - seq);
    for (let i = 0; i < k; i++) src[i * SLOT_WORDS] = seq + i;
    let sent = 0;
    while (sent < k) {
      const n =
        k === 1 ? (ring.push(src) ? 1 : 0) : ring.pushBatch(src, k - sent, sent * SLOT_WORDS);
      if (n > 0) {
        sent += n;
        if (notifier.afterEnqueue(n)) woken += wake(dataBit);
      } else {
        if (notifier.onDry()) woken += wake(dataBit);
        if (job.mode === 'block') sleepUntil(spaceBit, () => ring.space() > 0);
      }
    }
    seq += k;
  }
  if (notifier.onDry()) woken += wake(dataBit);
  parentPort!.postMessage({ start, woken, ...notifier.stats });
}

function ringConsumer(job: RingJob) {
  const { ring, dataBit, spaceBit } = ringLayout(job.sab, job.capacity);
  const spaceNotifier = new Notifier(spaceBit, { kind: 'when-asleep' });
  const out = new Uint32Array(job.batch * SLOT_WORDS);
  let expect = 0;
  let errors = 0;
  let sleeps = 0;
  while (expect < job.items) {
    const n = job.batch === 1 ? (ring.pop(out) ? 1 : 0) : ring.popBatch(out, job.batch);
    if (n === 0) {
      if (job.mode === 'block') {
        sleeps++;
        sleepUntil(dataBit, () => ring.count() > 0);
      }
      continue;
    }
    for (let i = 0; i < n; i++) if (out[i * SLOT_WORDS] !== expect++) errors++;
    if (spaceNotifier.afterEnqueue(n)) wake(spaceBit);
  }
  parentPort!.postMessage({ end: now(), errors, sleeps });
}

function postProducer(job: PostJob) {
  const start = now();
  for (let seq = 0; seq < job.items; seq += job.batch) {
    const k = Math.min(job.batch, job.items - seq);
    const msg = new Uint32Array(k * SLOT_WORDS);
    for (let i = 0; i < k; i++) msg[i * SLOT_WORDS] = seq + i;
    job.port.postMessage(msg);
  }
  parentPort!.postMessage({ start });
}

function postConsumer(job: PostJob) {
  let expect = 0;
  let errors = 0;
  job.port.on('message', (msg: Uint32Array) => {
    for (let i = 0; i < msg.length; i += SLOT_WORDS) if (msg[i] !== expect++) errors++;
    if (expect >= job.items) {
      parentPort!.postMessage({ end: now(), errors });
      job.port.close();
    }
  });
}

// ---- @udf/lockfree vs ringbuf.js: spinning, no notification ----------------------------------

function udfProducer(job: CompareJob) {
  const ring = new SpscRing(job.sab, 0, job.capacity, SLOT_WORDS);
  const src = new Uint32Array(job.batch * SLOT_WORDS);
  const start = now();
  for (let seq = 0; seq < job.items; ) {
    const k = Math.min(job.batch, job.items - seq);
    for (let i = 0; i < k; i++) src[i * SLOT_WORDS] = seq + i;
    if (job.batch === 1) {
      while (!ring.push(src)) {
        // spin: ring full
      }
    } else {
      for (let sent = 0; sent < k; ) sent += ring.pushBatch(src, k - sent, sent * SLOT_WORDS);
    }
    seq += k;
  }
  parentPort!.postMessage({ start });
}

function udfConsumer(job: CompareJob) {
  const ring = new SpscRing(job.sab, 0, job.capacity, SLOT_WORDS);
  const out = new Uint32Array(job.batch * SLOT_WORDS);
  let expect = 0;
  let errors = 0;
  while (expect < job.items) {
    const n = job.batch === 1 ? (ring.pop(out) ? 1 : 0) : ring.popBatch(out, job.batch);
    for (let i = 0; i < n; i++) if (out[i * SLOT_WORDS] !== expect++) errors++;
  }
  parentPort!.postMessage({ end: now(), errors });
}

// ringbuf.js counts elements (here u32 words), not descriptors: a push or pop may move part of
// a descriptor, so both sides carry on from where the last call stopped.
function ringbufProducer(job: CompareJob) {
  const rb = new RingBuffer(job.sab, Uint32Array);
  const src = new Uint32Array(job.batch * SLOT_WORDS);
  const start = now();
  for (let seq = 0; seq < job.items; ) {
    const k = Math.min(job.batch, job.items - seq);
    for (let i = 0; i < k; i++) src[i * SLOT_WORDS] = seq + i;
    const words = k * SLOT_WORDS;
    for (let sent = 0; sent < words; ) sent += rb.push(src, words - sent, sent);
    seq += k;
  }
  parentPort!.postMessage({ start });
}

function ringbufConsumer(job: CompareJob) {
  const rb = new RingBuffer(job.sab, Uint32Array);
  const out = new Uint32Array(job.batch * SLOT_WORDS);
  const total = job.items * SLOT_WORDS;
  let words = 0;
  let errors = 0;
  while (words < total) {
    const n = rb.pop(out, out.length);
    // check word 0 of every descriptor that starts in this chunk
    for (let j = (SLOT_WORDS - (words % SLOT_WORDS)) % SLOT_WORDS; j < n; j += SLOT_WORDS) {
      if (out[j] !== (words + j) / SLOT_WORDS) errors++;
    }
    words += n;
  }
  parentPort!.postMessage({ end: now(), errors });
}

const job = workerData.job as RingJob | PostJob | CompareJob;
if ('impl' in job) {
  if (job.kind === 'cmp-producer') (job.impl === 'udf' ? udfProducer : ringbufProducer)(job);
  else (job.impl === 'udf' ? udfConsumer : ringbufConsumer)(job);
} else if ('port' in job) {
  if (job.kind === 'post-producer') postProducer(job);
  else postConsumer(job);
} else if (job.kind === 'ring-producer') ringProducer(job);
else ringConsumer(job);
