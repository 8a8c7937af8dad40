// The `x11` package ships no types: only what this agent uses, as the library defines it.
declare module 'x11' {
  import type { EventEmitter } from 'node:events';

  export interface XScreen {
    root: number;
    root_depth: number;
    default_colormap: number;
    white_pixel: number;
    black_pixel: number;
    pixel_width: number;
    pixel_height: number;
  }

  export interface XDisplay {
    client: XClient;
    screen: XScreen[];
  }

  export interface XProperty {
    type: number;
    format: number;
    bytesAfter: number;
    data: Buffer;
  }

  export interface XEvent {
    name: string;
    wid?: number;
    atom?: number;
    window?: number;
  }

  type Callback<T> = (err: Error | null, result: T) => void;

  /** MIT-SCREEN-SAVER, as lib/ext/screen-saver.js defines it: `idle` is ms since the last input. */
  export interface ScreenSaverExtension {
    QueryInfo(drawable: number, cb: Callback<{ state: number; idle: number; until: number; kind: number }>): void;
  }

  /** XFIXES, as lib/ext/fixes.js defines it (QueryVersion already done by require). */
  export interface FixesExtension {
    firstEvent: number;
    SelectionEventMask: { SetSelectionOwner: number; SelectionWindowDestroy: number; SelectionClientClose: number };
    SelectSelectionInput(window: number, selection: number, eventMask: number): void;
  }

  /** RANDR's mode, as lib/ext/randr.js unpacks GetScreenResources. */
  export interface RandrModeInfo {
    id: number;
    width: number;
    height: number;
    name: string;
  }

  export interface RandrScreenResources {
    timestamp: number;
    config_timestamp: number;
    crtcs: number[];
    outputs: number[];
    modeinfos: RandrModeInfo[];
  }

  export interface RandrOutputInfo {
    crtc: number;
    /** 0 connected, 1 disconnected, 2 unknown. */
    connection: number;
    crtcs: number[];
    modes: number[];
    name: string;
  }

  export interface RandrCrtcInfo {
    x: number;
    y: number;
    width: number;
    height: number;
    mode: number;
    rotation: number;
    output: number[];
  }

  /** RANDR, as lib/ext/randr.js defines it (QueryVersion already done by require). */
  export interface RandrExtension {
    majorOpcode: number;
    firstEvent: number;
    major_version: number;
    minor_version: number;
    NotifyMask: { ScreenChange: number; CrtcChange: number; OutputChange: number; OutputProperty: number };
    SelectInput(window: number, mask: number): void;
    GetScreenResourcesCurrent(window: number, cb: Callback<RandrScreenResources>): void;
    GetOutputInfo(output: number, configTimestamp: number, cb: Callback<RandrOutputInfo>): void;
    GetCrtcInfo(crtc: number, configTimestamp: number, cb: Callback<RandrCrtcInfo>): void;
    GetOutputPrimary(window: number, cb: Callback<number>): void;
    GetScreenSizeRange(window: number, cb: Callback<{ minWidth: number; minHeight: number; maxWidth: number; maxHeight: number }>): void;
    SetScreenSize(window: number, width: number, height: number, mmWidth: number, mmHeight: number): void;
    CreateMode(
      window: number,
      mode: {
        width: number;
        height: number;
        dot_clock: number;
        h_sync_start: number;
        h_sync_end: number;
        h_total: number;
        v_sync_start: number;
        v_sync_end: number;
        v_total: number;
        name: string;
      },
      cb: Callback<number>,
    ): void;
    AddOutputMode(output: number, mode: number): void;
    SetCrtcConfig(
      crtc: number,
      timestamp: number,
      configTimestamp: number,
      x: number,
      y: number,
      mode: number,
      rotation: number,
      outputs: number[],
      cb: Callback<{ status: number; timestamp: number }>,
    ): void;
  }

  /** The library's request machinery, for requests it does not define (RANDR 1.5's monitors). */
  export interface XRequestQueue {
    seq_num: number;
    replies: Record<number, [((reply: Buffer, opt: number) => unknown) | undefined, (err: Error | null, result?: unknown) => unknown]>;
    pack_stream: { put(bytes: Buffer): void; submit(expectsReply?: boolean): boolean };
    _scheduleVoidSync(seq: number): void;
  }

  /** An event as the library's parsers give it (core events and XFIXES SelectionNotify). */
  export interface XAnyEvent {
    type: number;
    name: string;
    wid?: number;
    window?: number;
    atom?: number;
    state?: number;
    time?: number;
    owner?: number;
    requestor?: number;
    selection?: number;
    target?: number;
    property?: number;
    /** ClientMessage: its type atom, format and data (five 32-bit values at format 32). */
    message_type?: number;
    format?: number;
    data?: number[];
  }

  export interface XClient extends EventEmitter, XRequestQueue {
    require(extension: 'screen-saver', cb: Callback<ScreenSaverExtension>): void;
    require(extension: 'randr', cb: Callback<RandrExtension>): void;
    GetGeometry(drawable: number, cb: Callback<{ x: number; y: number; width: number; height: number }>): void;
    require(extension: 'fixes', cb: Callback<FixesExtension>): void;
    CreateWindow(
      id: number,
      parent: number,
      x: number,
      y: number,
      width: number,
      height: number,
      borderWidth: number,
      depth: number,
      windowClass: number,
      visual: number,
      values: { eventMask?: number; backgroundPixel?: number; overrideRedirect?: number },
    ): void;
    MapWindow(id: number): void;
    DestroyWindow(id: number): void;
    SetSelectionOwner(owner: number, selection: number, time?: number): void;
    GetSelectionOwner(selection: number, cb: Callback<number>): void;
    ConvertSelection(requestor: number, selection: number, target: number, property: number, time?: number): void;
    SendEvent(destination: number, propagate: boolean, eventMask: number, event: XAnyEvent & { seq?: number }): void;
    ChangeProperty(mode: number, wid: number, name: number, type: number, format: 8 | 16 | 32, data: Buffer | number[]): void;
    DeleteProperty(wid: number, name: number): void;
    GetAtomName(atom: number, cb: Callback<string>): void;
    InternAtom(onlyIfExists: boolean, name: string, cb: Callback<number>): void;
    GetProperty(del: number, wid: number, name: number, type: number, longOffset: number, longLength: number, cb: Callback<XProperty>): void;
    ChangeWindowAttributes(wid: number, values: { eventMask?: number; backgroundPixel?: number; backgroundPixmap?: number }, cb?: Callback<unknown>): void;
    SendClientMessage(destination: number, wid: number, messageType: number, format: number, data: number[], eventMask?: number, cb?: Callback<unknown>): void;
    ClearArea(wid: number, x: number, y: number, width: number, height: number, exposures: number): void;
    ConfigureWindow(wid: number, values: { x?: number; y?: number; width?: number; height?: number }): void;
    AllocColor(colormap: number, red: number, green: number, blue: number, cb: Callback<{ pixel: number }>): void;
    GetInputFocus(cb: Callback<{ focus: number }>): void;
    GetWindowAttributes(wid: number, cb: Callback<{ mapState: number }>): void;
    TranslateCoordinates(srcWid: number, dstWid: number, srcX: number, srcY: number, cb: Callback<{ child: number; destX: number; destY: number }>): void;
    AllocID(): number;
    CreatePixmap(pid: number, drawable: number, depth: number, width: number, height: number): void;
    FreePixmap(pid: number): void;
    CreateGC(gc: number, drawable: number, values: Record<string, number>): void;
    FreeGC(gc: number): void;
    PutImage(
      format: number,
      drawable: number,
      gc: number,
      width: number,
      height: number,
      dstX: number,
      dstY: number,
      leftPad: number,
      depth: number,
      data: Buffer,
    ): void;
    GetImage(
      format: number,
      drawable: number,
      x: number,
      y: number,
      width: number,
      height: number,
      planeMask: number,
      cb: Callback<{ depth: number; data: Buffer }>,
    ): void;
    terminate(): void;
  }

  export function createClient(options: { display?: string }, cb: (err: Error | null, display: XDisplay) => void): EventEmitter;
  export const eventMask: Record<string, number>;
}
