/** What a JSON frame may hold before it is parsed: its cost is in its structure, not only its bytes. */
export interface FrameCostLimits {
  /** Object keys in all. */
  maxKeys: number;
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Elements of any one array. */
  maxArrayLength: number;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Why a JSON text costs more than the limits allow, or undefined: one pass over its characters (no allocation, a
 * few milliseconds for megabytes), stopping at the first bound crossed, so a frame with a million keys or deep or
 * long arrays is refused before JSON.parse, the credential strip and the re-serialisation would pay for it. Malformed
 * JSON is left to the parser.
 */
export function frameCostProblem(text: string, limits: FrameCostLimits): string | undefined {
  let keys = 0;
  let inString = false;
  // per open container: whether it is an array, and its elements so far
  const arrays: boolean[] = [];
  const counts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (arrays.length > 0 && arrays[arrays.length - 1] && counts[counts.length - 1] === 0) counts[counts.length - 1] = 1;
        arrays.push(c === OPEN_ARRAY);
        counts.push(0);
        if (arrays.length > limits.maxDepth) return `frame nests deeper than ${limits.maxDepth}`;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        arrays.pop();
        counts.pop();
        break;
      case COLON:
        if (++keys > limits.maxKeys) return `frame has more than ${limits.maxKeys} keys`;
        break;
      case COMMA: {
        const last = counts.length - 1;
        if (last >= 0 && arrays[last]) {
          counts[last] = (counts[last] ?? 1) + 1;
          if ((counts[last] ?? 0) > limits.maxArrayLength) return `frame has an array longer than ${limits.maxArrayLength}`;
        }
        break;
      }
      default:
        // the first element of an array (a value that is no container)
        if (arrays.length > 0 && arrays[arrays.length - 1] && counts[counts.length - 1] === 0 && c > 0x20) counts[counts.length - 1] = 1;
    }
  }
  return undefined;
}
