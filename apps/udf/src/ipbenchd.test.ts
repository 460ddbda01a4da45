import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ipbenchdCommand, serveIpbenchd } from './ipbenchd.js';

const here = dirname(fileURLToPath(import.meta.url));

function lines(socket: Socket): () => Promise<string> {
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  const ready: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else ready.push(line);
    }
  });
  return () =>
    ready.length > 0 ? Promise.resolve(ready.shift()!) : new Promise((r) => waiting.push(r));
}

describe('udf ipbenchd', () => {
  for (const mode of ['client', 'target'] as const) {
    it(`serves the ipbenchd protocol as a ${mode} daemon and shuts down cleanly`, async () => {
      let stop: () => void = () => {};
      const stopped = new Promise<void>((r) => {
        stop = r;
      });
      const log: string[] = [];
      let port = 0;
      const listening = new Promise<void>((ready) => {
        void serveIpbenchd(
          { mode, port: 0, host: '127.0.0.1', log: (l) => log.push(l) },
          stopped,
          (a) => {
            port = a.port;
            ready();
          },
        );
      });
      await listening;
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      const next = lines(socket);
      expect(await next()).toBe('100 IPBENCH V1.0');
      socket.write('STATUS\n');
      expect(await next()).toBe(mode === 'client' ? 'Testing Daemon mode' : 'Target Daemon mode');
      const closed = new Promise((r) => socket.on('close', r));
      stop();
      await closed;
      await new Promise((r) => setTimeout(r, 10));
      expect(log.at(-1)).toBe('udf ipbenchd: shutting down');
      expect(log[0]).toMatch(new RegExp(`${mode} daemon listening on 127.0.0.1:${port}`));
    });
  }

  it('needs exactly one of --client and --target (exit code 2)', async () => {
    for (const args of [[], ['--client', '--target']]) {
      const cmd = ipbenchdCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => {} });
      await expect(cmd.parseAsync(args, { from: 'user' })).rejects.toMatchObject({ exitCode: 2 });
    }
    const bad = ipbenchdCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {} });
    await expect(bad.parseAsync(['--client', '--port', '70000'], { from: 'user' })).rejects.toThrow(
      /--port/,
    );
  });

  it('runs as a process until SIGTERM, then exits 0', async () => {
    const tsx = pathToFileURL(createRequire(join(here, '..', 'package.json')).resolve('tsx')).href;
    const entry = pathToFileURL(join(here, 'ipbenchd.ts')).href;
    const code = `const { ipbenchdCommand } = await import(${JSON.stringify(entry)});
      await ipbenchdCommand().parseAsync(['--target', '--port', '0', '--host', '127.0.0.1'], { from: 'user' });`;
    const child = spawn(
      process.execPath,
      ['--conditions=@udf/source', '--import', tsx, '--input-type=module', '-e', code],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    const up = new Promise<number>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      }),
    );
    const port = await up;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    expect(await lines(socket)()).toBe('100 IPBENCH V1.0');
    socket.destroy();
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('udf ipbenchd: shutting down');
  });
});
