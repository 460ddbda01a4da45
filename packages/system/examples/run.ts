import { parseSystemText, runStep } from '@udf/system';

// A placement description (the `isolated` one `udf list` shows); loadSystem(path) reads a file.
const sys = parseSystemText(`
name: isolated
nics:
  - { name: nic0, model: dp83820, irq: 11, mac: "02:00:00:00:00:01", holdoffUs: 100 }
domains:
  - { name: memory, priority: 150, components: [{ kind: dataspace-manager }] }
  - { name: driver, priority: 200, components: [{ kind: dp83820-driver, nics: [nic0] }] }
  - name: stack
    priority: 100
    components:
      - { kind: ip-stack, nic: nic0, ip: 10.0.0.1 }
      - { kind: udp-echo, port: 7 }
`); // throws SystemDescriptionError naming each bad field

// runStep takes all six step options; the description's defaults are in sys.load and sys.machine.
const r = await runStep(sys, {
  loadMbps: 450,
  holdoffUs: sys.nics[0]!.holdoffUs,
  durationMs: 20,
  warmupMs: 5,
  packetSize: sys.load.packetSize,
  ipcScale: sys.machine.ipcScale,
});
console.log(`${r.achievedMbps.toFixed(0)} Mb/s echoed, CPU ${r.cpuPercent.toFixed(0)} %`);
