import type { CpuReading } from '../cpu/meter.js';
import { IpbenchError } from '../errors.js';
import type { ClientResult } from '../load.js';

/**
 * Encodes a client result as ipbench's `struct marshalled_result` (big-endian `uint64_t`s:
 * time µs, samples, size, sends, recvs, [bad_packets — `latency-check` only], requested,
 * achieved, sent bits/s, then one RTT in whole µs per sample).
 */
export function encodeLatencyResult(r: ClientResult, withBadPackets: boolean): Uint8Array {
  const head = [r.durationUs, r.rttUs.length, r.size, r.sends, r.recvs];
  if (withBadPackets) head.push(r.bad);
  head.push(r.requestedBps, r.achievedBps, r.sentBps);
  const out = new Uint8Array(8 * (head.length + r.rttUs.length));
  const dv = new DataView(out.buffer);
  let o = 0;
  const put = (v: number): void => {
    dv.setBigUint64(o, BigInt(Math.max(0, Math.trunc(v))));
    o += 8;
  };
  head.forEach(put);
  for (const v of r.rttUs) put(v);
  return out;
}

/** Decodes {@link encodeLatencyResult}'s layout; throws `IPBENCH_PROTOCOL` if it is short. */
export function decodeLatencyResult(data: Uint8Array, withBadPackets: boolean): ClientResult {
  const fields = withBadPackets ? 9 : 8;
  if (data.length < 8 * fields || data.length % 8 !== 0) {
    throw new IpbenchError('IPBENCH_PROTOCOL', `latency result of ${data.length} bytes`);
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const get = (i: number): number => Number(dv.getBigUint64(8 * i));
  const samples = get(1);
  if (data.length !== 8 * (fields + samples)) {
    throw new IpbenchError('IPBENCH_PROTOCOL', `latency result claims ${samples} samples`);
  }
  const b = withBadPackets ? 1 : 0;
  const rttUs = new Float64Array(samples);
  for (let i = 0; i < samples; i++) rttUs[i] = get(fields + i);
  return {
    durationUs: get(0),
    size: get(2),
    sends: get(3),
    recvs: get(4),
    bad: withBadPackets ? get(5) : 0,
    requestedBps: get(5 + b),
    achievedBps: get(6 + b),
    sentBps: get(7 + b),
    late: 0,
    lost: 0,
    rttUs,
  };
}

/** ipbench `cpu_target`'s text: `"%.1f"` of the average, then `,CPUi: %.1f` each, NUL-ended. */
export function encodeCpuTarget(reading: CpuReading): Uint8Array {
  let text = (reading.utilisation * 100).toFixed(1);
  reading.perCpu?.forEach((u, i) => {
    text += `,CPU${i}: ${(u * 100).toFixed(1)}`;
  });
  return new TextEncoder().encode(`${text}\0`);
}

/**
 * Parses `cpu_target` output back into a reading (its text kept in `text`); throws
 * `IPBENCH_PROTOCOL` if unreadable. `-nan` (the original's result when its window held no 1 s
 * sample) is reported as such.
 */
export function decodeCpuTarget(data: Uint8Array): CpuReading {
  const text = new TextDecoder().decode(data.subarray(0, 64 * 1024)).replace(/\0.*$/s, '');
  const [avg, ...rest] = text.trim().split(',');
  const utilisation = Number(avg) / 100;
  if (/nan/i.test(avg ?? '')) {
    throw new IpbenchError(
      'IPBENCH_PROTOCOL',
      `cpu_target took no sample (${JSON.stringify(text.slice(0, 80))}): its window must span at least one of its 1 s periods`,
    );
  }
  if (!avg || !Number.isFinite(utilisation)) {
    throw new IpbenchError(
      'IPBENCH_PROTOCOL',
      `unreadable cpu_target result ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  const perCpu = rest
    .map((p) => /CPU\d+:\s*([\d.]+)/.exec(p)?.[1])
    .filter((v): v is string => v !== undefined)
    .map((v) => Number(v) / 100);
  return perCpu.length > 0 ? { utilisation, perCpu, text } : { utilisation, text };
}
