/**
 * `udf ipbenchd --client|--target [--port N] [--host H]`: runs udf's ipbench client (tester) or
 * target daemon until SIGINT or SIGTERM, so udf and original ipbench machines can be mixed
 * (an original `ipbench` controller drives udf's daemons and vice versa).
 */
import {
  CLIENT_DAEMON_PORT,
  ClientDaemon,
  DAEMON_LIMITS,
  TARGET_DAEMON_PORT,
  TargetDaemon,
} from '@udf/ipbench';
import { Command, InvalidArgumentError } from 'commander';

/** Options of {@link serveIpbenchd}. */
export interface IpbenchdOptions {
  /** `client` (tester, default port 8036) or `target` (default port 8037). */
  mode: 'client' | 'target';
  /** Port to listen on; default by mode. */
  port?: number;
  /** Address to bind. Default `0.0.0.0` (all IPv4 addresses), like ipbenchd. */
  host?: string;
  /** Open control connections allowed. */
  maxConnections?: number;
  /** Idle timeout of a session not running a test, seconds. */
  idleTimeoutS?: number;
  /** Where to print the one-line status messages. Default stderr. */
  log?: (line: string) => void;
}

/**
 * Starts the daemon and resolves when it has shut down cleanly after `stop` settles (the
 * command passes a promise that settles on SIGINT/SIGTERM). `listening` (if given) receives the
 * bound address, e.g. to learn an ephemeral port.
 */
export async function serveIpbenchd(
  options: IpbenchdOptions,
  stop: Promise<unknown>,
  listening?: (address: { host: string; port: number }) => void,
): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const daemonOptions = {
    onError: (e: Error) => log(`udf ipbenchd: ${e.message}`),
    ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
    ...(options.idleTimeoutS !== undefined ? { idleTimeoutMs: options.idleTimeoutS * 1000 } : {}),
  };
  const daemon =
    options.mode === 'client' ? new ClientDaemon(daemonOptions) : new TargetDaemon(daemonOptions);
  const port =
    options.port ?? (options.mode === 'client' ? CLIENT_DAEMON_PORT : TARGET_DAEMON_PORT);
  const address = await daemon.listen(port, options.host ?? '0.0.0.0');
  log(`udf ipbenchd: ${options.mode} daemon listening on ${address.address}:${address.port}`);
  listening?.({ host: address.address, port: address.port });
  await stop;
  log('udf ipbenchd: shutting down');
  await daemon.close();
}

const integer = (what: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new InvalidArgumentError(`expected an integer in [${min}, ${max}] for ${what}`);
  }
  return n;
};

/** The `udf ipbenchd` command (commander), for `program.addCommand(ipbenchdCommand())`. */
export function ipbenchdCommand(): Command {
  return new Command('ipbenchd')
    .description(
      "run udf's ipbench daemon (the original ipbenchd's protocol) until SIGINT/SIGTERM: a client (tester) daemon or a target (cpu_target) daemon",
    )
    .option('--client', `client (tester) daemon, default port ${CLIENT_DAEMON_PORT}`)
    .option('--target', `target daemon (cpu_target), default port ${TARGET_DAEMON_PORT}`)
    .option('--port <n>', 'TCP port to listen on', integer('--port', 0, 65535))
    .option('--host <address>', 'address to bind (default all IPv4 addresses)', '0.0.0.0')
    .option(
      '--max-connections <n>',
      `open control connections allowed (default ${DAEMON_LIMITS.maxConnections})`,
      integer('--max-connections', 1, 4096),
    )
    .option(
      '--idle-timeout <s>',
      `close sessions idle this long, seconds (default ${DAEMON_LIMITS.idleTimeoutMs / 1000})`,
      integer('--idle-timeout', 1, 86_400),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  udf ipbenchd --client                 tester daemon on 0.0.0.0:8036\n  udf ipbenchd --target --port 9037 --host 127.0.0.1\n',
    )
    .action(async function (this: Command) {
      const o = this.opts<{
        client?: boolean;
        target?: boolean;
        port?: number;
        host: string;
        maxConnections?: number;
        idleTimeout?: number;
      }>();
      if (Boolean(o.client) === Boolean(o.target)) {
        this.error('error: give exactly one of --client or --target', { exitCode: 2 });
      }
      let onSignal: () => void = () => {};
      const stop = new Promise<void>((resolve) => {
        onSignal = () => resolve();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      try {
        await serveIpbenchd(
          {
            mode: o.client ? 'client' : 'target',
            host: o.host,
            ...(o.port !== undefined ? { port: o.port } : {}),
            ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
            ...(o.idleTimeout !== undefined ? { idleTimeoutS: o.idleTimeout } : {}),
          },
          stop,
        );
      } catch (e) {
        this.error(`error: ${(e as Error).message}`, { exitCode: 1 });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
