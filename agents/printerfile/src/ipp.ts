import ipp from 'ipp';
import { ERRORS } from './errors.js';

/** The typed face of the untyped-in-practice `ipp` package: the three operations this agent uses. */
export interface PrinterStatus {
  name: string;
  state: 'idle' | 'processing' | 'stopped' | string;
  accepting: boolean;
  stateReasons: string[];
  queuedJobs: number;
}

export interface PrintJob {
  id: number;
  name: string;
  state: string;
  user: string;
  createdAt: number | undefined;
  completedAt: number | undefined;
}

type Attributes = Record<string, unknown>;
interface Response {
  statusCode: string;
  'printer-attributes-tag'?: Attributes;
  'job-attributes-tag'?: Attributes | Attributes[];
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const asString = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? '') : v === undefined ? '' : String(v));
const asTime = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v * 1000 : v instanceof Date ? v.getTime() : undefined);

export class CupsClient {
  readonly printerUri: string;

  constructor(
    server: string,
    readonly printer: string,
    private readonly timeoutMs: number,
  ) {
    this.printerUri = `ipp://${server}/printers/${encodeURIComponent(printer)}`;
  }

  async status(): Promise<PrinterStatus> {
    const res = await this.#execute('Get-Printer-Attributes', {
      // only what is used: `all` also brings attributes the library cannot parse (and prints about)
      'operation-attributes-tag': {
        'requesting-user-name': 'printerfile',
        'requested-attributes': ['printer-name', 'printer-state', 'printer-is-accepting-jobs', 'printer-state-reasons', 'queued-job-count'],
      },
    });
    const a = res['printer-attributes-tag'] ?? {};
    return {
      name: asString(a['printer-name']),
      state: asString(a['printer-state']),
      accepting: a['printer-is-accepting-jobs'] === true,
      stateReasons: asArray(a['printer-state-reasons'] as string | string[] | undefined).map(String),
      queuedJobs: Number(a['queued-job-count'] ?? 0),
    };
  }

  async jobs(): Promise<PrintJob[]> {
    const res = await this.#execute('Get-Jobs', {
      'operation-attributes-tag': {
        'requesting-user-name': 'printerfile',
        'which-jobs': 'all',
        'requested-attributes': ['job-id', 'job-name', 'job-state', 'job-originating-user-name', 'time-at-creation', 'time-at-completed'],
      },
    });
    return asArray(res['job-attributes-tag']).map((j) => ({
      id: Number(j['job-id']),
      name: asString(j['job-name']),
      state: asString(j['job-state']),
      user: asString(j['job-originating-user-name']),
      createdAt: asTime(j['time-at-creation']),
      completedAt: asTime(j['time-at-completed']),
    }));
  }

  async cancel(jobId: number): Promise<void> {
    await this.#execute('Cancel-Job', {
      'operation-attributes-tag': { 'requesting-user-name': 'printerfile', 'job-id': jobId },
    });
  }

  #execute(operation: string, message: object): Promise<Response> {
    const printer = new ipp.Printer(this.printerUri);
    const execute = printer.execute.bind(printer) as unknown as (op: string, msg: object, cb: (err: Error | null, res: Response) => void) => void;
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => reject(ERRORS.CUPS_UNREACHABLE(`cupsd did not answer ${operation} within ${this.timeoutMs} ms`)), this.timeoutMs);
      execute(operation, message, (err, res) => {
        clearTimeout(timer);
        if (err) return reject(ERRORS.CUPS_UNREACHABLE(`cupsd is not reachable: ${err.message}`));
        if (!res.statusCode.startsWith('successful')) return reject(ERRORS.IPP_FAILURE(`${operation}: ${res.statusCode}`));
        resolve(res);
      });
    });
  }
}
