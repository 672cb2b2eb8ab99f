// protocol/ compiles without DOM, Node or Workers types (STYLE.md: a platform call here must
// fail to compile). The only platform facilities it uses are the WHATWG text codecs, which
// every target (browsers, Node >= 20, workerd) provides with the same behaviour.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
