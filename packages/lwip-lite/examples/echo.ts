import { loopbackPair, parseIpv4, Stack, UdpDatagram, UdpEchoService } from '@udf/lwip-lite';

const [devA, devB] = loopbackPair();
const client = new Stack({ mac: '02:00:00:00:00:0a', ip: '10.0.0.1', device: devA });
const server = new Stack({ mac: '02:00:00:00:00:0b', ip: '10.0.0.2', device: devB });
const echo = new UdpEchoService(server); // port 7

const sock = client.udpBind(5000);
sock.sendTo(new TextEncoder().encode('hello'), parseIpv4('10.0.0.2'), 7); // queued behind ARP
while (client.poll() + server.poll() > 0) {} // ARP request, reply, datagram, echo

const d = new UdpDatagram();
sock.recv(d); // by reference: the payload is still in the receive buffer
console.log(new TextDecoder().decode(d.payload()), echo.stats.echoed, server.counters.copyOps); // hello 1 1
sock.release(d); // give the buffer back to the device
