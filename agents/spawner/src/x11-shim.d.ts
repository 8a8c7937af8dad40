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

  export interface XClient extends EventEmitter {
    require(extension: 'screen-saver', cb: Callback<ScreenSaverExtension>): void;
    InternAtom(onlyIfExists: boolean, name: string, cb: Callback<number>): void;
    GetProperty(del: number, wid: number, name: number, type: number, longOffset: number, longLength: number, cb: Callback<XProperty>): void;
    ChangeWindowAttributes(wid: number, values: { eventMask?: number; backgroundPixel?: number; backgroundPixmap?: number }, cb?: Callback<unknown>): void;
    SendClientMessage(destination: number, wid: number, messageType: number, format: number, data: number[], eventMask?: number, cb?: Callback<unknown>): void;
    ClearArea(wid: number, x: number, y: number, width: number, height: number, exposures: number): void;
    ConfigureWindow(wid: number, values: { x?: number; y?: number; width?: number; height?: number }): void;
    AllocColor(colormap: number, red: number, green: number, blue: number, cb: Callback<{ pixel: number }>): void;
    GetInputFocus(cb: Callback<{ focus: number }>): void;
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
