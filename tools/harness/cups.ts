import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireCommand } from './components.js';
import { freePort, makeRunDir, run, startProcess, waitFor, type ManagedProcess } from './process.js';

export interface CupsServer {
  port: number;
  /** host:port for CUPS_SERVER and lp -h */
  server: string;
  /** ipp://127.0.0.1:PORT/printers/NAME */
  printerUri: string;
  printer: string;
  /** Where cups-pdf writes the PDFs. */
  outDir: string;
  dir: string;
  daemon: ManagedProcess;
  env: { CUPS_SERVER: string };
  /** Stops cupsd but keeps its folders, so restart() comes back with the same queue. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** cups-pdf reads its settings from /etc/cups/cups-pdf-<NAME>.conf (compiled in), so each server gets a unique NAME. */
const CUPS_PDF_CONF_DIR = '/etc/cups';

/**
 * A private cupsd (config, spool, logs under a temp folder; listening on a free loopback port) with one cups-pdf
 * queue writing into `outDir`. cups-pdf only runs under a root cupsd, so this needs root.
 */
export async function startCups(printer = 'PDF'): Promise<CupsServer> {
  const cupsd = requireCommand('cupsd', 'cups-daemon');
  const lpadmin = requireCommand('lpadmin', 'cups-client');
  requireCommand('cupsfilter', 'cups');
  if (process.getuid?.() !== 0) throw new Error('startCups needs root: cups-pdf refuses to run under a non-root cupsd');
  const { dir, remove } = await makeRunDir('cups');
  const port = await freePort();
  const instance = `da${randomBytes(4).toString('hex')}`;
  const outDir = join(dir, 'pdf');
  const pdfConf = join(CUPS_PDF_CONF_DIR, `cups-pdf-${instance}.conf`);
  for (const sub of ['conf', 'spool', 'spool/tmp', 'cache', 'state', 'log', 'pdf']) await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
  // filters run as lp and need their temp folder; the run folder itself must be reachable by them
  await chmod(join(dir, 'spool/tmp'), 0o1777);
  await chmod(dir, 0o755);
  const conf = join(dir, 'conf');
  await writeFile(
    join(conf, 'cups-files.conf'),
    [
      `ServerRoot ${conf}`,
      `RequestRoot ${join(dir, 'spool')}`,
      `TempDir ${join(dir, 'spool/tmp')}`,
      `CacheDir ${join(dir, 'cache')}`,
      `StateDir ${join(dir, 'state')}`,
      `ErrorLog ${join(dir, 'log/error_log')}`,
      `AccessLog ${join(dir, 'log/access_log')}`,
      `PageLog ${join(dir, 'log/page_log')}`,
      'SystemGroup root lpadmin',
      'User lp',
      'Group lp',
      'FileDevice No',
      'Sandboxing Relaxed',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(conf, 'cupsd.conf'),
    [
      `Listen 127.0.0.1:${port}`,
      `Listen ${join(dir, 'cups.sock')}`,
      'Browsing No',
      'WebInterface No',
      'DefaultAuthType None',
      'LogLevel warn',
      'MaxJobs 100',
      'PreserveJobHistory Yes',
      '<Location />',
      '  Order allow,deny',
      '  Allow 127.0.0.1',
      '  Allow @LOCAL',
      '</Location>',
      '<Location /admin>',
      '  Order allow,deny',
      '  Allow 127.0.0.1',
      '</Location>',
      '<Policy default>',
      '  <Limit All>',
      '    Order deny,allow',
      '  </Limit>',
      '</Policy>',
      '',
    ].join('\n'),
  );
  await writeFile(pdfConf, [`Out ${outDir}`, `AnonDirName ${outDir}`, `Log ${join(dir, 'log')}`, 'LogType 3', 'UserUMask 0022', 'Grp root', ''].join('\n'));
  const server = `127.0.0.1:${port}`;
  const env = { ...process.env, CUPS_SERVER: server };
  const cleanup = async () => {
    await rm(pdfConf, { force: true });
    await remove();
  };

  const launch = async (): Promise<ManagedProcess> => {
    const daemon = startProcess('cupsd', cupsd, ['-f', '-c', join(conf, 'cupsd.conf'), '-s', join(conf, 'cups-files.conf')]);
    try {
      await daemon.aliveWhile(waitFor('cupsd', async () => (await run(requireCommand('lpstat', 'cups-client'), ['-r'], { env }, 3000)).includes('is running')));
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  };

  let daemon: ManagedProcess;
  try {
    daemon = await launch();
    await run(lpadmin, ['-p', printer, '-E', '-v', `cups-pdf:/${instance}`, '-m', 'lsb/usr/cups-pdf/CUPS-PDF_opt.ppd'], { env });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const cups: CupsServer = {
    port,
    server,
    printerUri: `ipp://${server}/printers/${printer}`,
    printer,
    outDir,
    dir,
    daemon,
    env: { CUPS_SERVER: server },
    async kill() {
      await cups.daemon.stop();
    },
    async restart() {
      await cups.daemon.stop();
      cups.daemon = await launch();
    },
    async stop() {
      await cups.daemon.stop();
      await cleanup();
    },
  };
  return cups;
}
