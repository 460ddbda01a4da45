import { DescStatus, NetSessionClient, NetSessionDriver, netSessionLayout } from '@udf/netdev';

const layout = netSessionLayout(256);
const buffer = new SharedArrayBuffer(layout.byteLength);
const client = new NetSessionClient({ buffer, byteOffset: 0, capacity: 256 });
const driver = new NetSessionDriver({ buffer, byteOffset: 0, capacity: 256 });

client.submitTx(/* dataspace */ 3, /* offset */ 0, /* length */ 1066);
const d = new Uint32Array(4);
driver.takeTx(d); // d = [3, 0, 1066, 0]
driver.completeTx(d[0]!, d[1]!, d[2]!, DescStatus.Ok);
client.pollTxDone(d);
console.log(
  `tx done: dataspace ${d[0]}, length ${d[2]}, status ${d[3] === DescStatus.Ok ? 'ok' : d[3]}`,
);
