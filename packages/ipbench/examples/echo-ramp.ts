// Ramp four sim clients against an in-memory echo target capped at 460 Mb/s; print the table,
// write CSV, JSON and the Figure 1(b)-style SVG.
// Run: node --conditions=@udf/source --import tsx examples/echo-ramp.ts
import { writeFileSync } from 'node:fs';
import {
  EchoTarget,
  EventClock,
  formatTable,
  IdleAccountingCpuMeter,
  Ramp,
  SimClient,
  toCsv,
  toJson,
} from '@udf/ipbench';
import { throughputCpuChartSvg } from '@udf/ipbench/charts';

const clock = new EventClock(2.66e9); // virtual time in cycles of a 2.66 GHz CPU
const echo = new EchoTarget({ clock, capMbps: 460, delayS: 20e-6 });
const clients = [1, 2, 3, 4].map((i) => {
  const client = new SimClient({
    clock,
    mac: `02:00:00:00:00:0${i}`,
    ip: `10.0.0.${i}`,
    targetMac: '02:00:00:00:00:fe',
    targetIp: '10.0.0.254',
    packetSize: 1024,
  });
  client.attach(echo); // client → target
  echo.connect(client.mac, client); // target → client
  return client;
});

// A stand-in for the sim kernel's accounting: the echo target is busy per packet it echoes.
const cpuMeter = new IdleAccountingCpuMeter(() => {
  const busy = echo.counters.echoed * 12_000; // cycles per echoed packet (made up for the example)
  return { idle: clock.now() - busy, total: clock.now() };
}, clock.hz);

const result = await new Ramp({
  clock,
  clients,
  cpuMeter,
  label: 'echo, 460 Mb/s cap',
  warmupS: 0.01,
  durationS: 0.1,
  cooldownS: 0.01,
  drive: (isDone) => clock.runUntil(isDone),
  onStep: (step, i, n) => process.stderr.write(`step ${i + 1}/${n}: ${step.offeredMbps} Mb/s\n`),
}).run();

console.log(formatTable(result));
writeFileSync('echo-ramp.csv', toCsv(result));
writeFileSync('echo-ramp.json', toJson(result));
writeFileSync('echo-ramp.svg', await throughputCpuChartSvg([result]));
