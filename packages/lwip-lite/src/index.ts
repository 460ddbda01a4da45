/**
 * `@udf/lwip-lite`: a small IPv4 stack in lwIP's spirit, structured like smoltcp — `wire`
 * (zero-copy packet views and validated representations), `iface` (the interface: ARP, IPv4,
 * ICMP, UDP demux, counters, costs), `socket` (UDP sockets), `app` (the UDP echo service),
 * `phy` (devices and middleware: loopback, frame endpoints, pcap) and `pbuf` (buffers that are
 * references into dataspaces).
 *
 * @packageDocumentation
 */
export * from './app/echo.js';
export * from './app/socket-echo.js';
export * from './error.js';
export * from './iface/arp-cache.js';
export * from './iface/costs.js';
export * from './iface/counters.js';
export * from './iface/stack.js';
export * from './netif/session.js';
export * from './netif/stack-server.js';
export * from './netif/stack-thread.js';
export * from './pbuf/pbuf.js';
export * from './phy/device.js';
export * from './phy/frame-device.js';
export * from './phy/pcap.js';
export * from './socket/server.js';
export * from './socket/udp.js';
export * from './wire/address.js';
export * from './wire/arp.js';
export * from './wire/checksum.js';
export * from './wire/error.js';
export * from './wire/ethernet.js';
export * from './wire/icmpv4.js';
export * from './wire/ipv4.js';
export * from './wire/udp.js';
export * from './wire/view.js';
