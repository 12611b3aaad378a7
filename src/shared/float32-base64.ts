/** Embeddings as OpenAI's `encoding_format: "base64"`: little-endian float32, base64. */
export function encodeFloat32Base64(values: readonly number[]): string {
  const buffer = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i] as number, i * 4);
  return buffer.toString("base64");
}

export function decodeFloat32Base64(text: string): number[] {
  const buffer = Buffer.from(text, "base64");
  const values = new Array<number>(Math.floor(buffer.length / 4));
  for (let i = 0; i < values.length; i++) values[i] = buffer.readFloatLE(i * 4);
  return values;
}
