/**
 * Text from a model goes to a terminal as text, never as commands: escape sequences (ESC, CSI,
 * OSC — screen clears, window titles, clipboard writes) and other control characters are dropped,
 * line feeds and tabs kept. Piped output is left exactly as the model wrote it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function forTerminal(text: string, stream: NodeJS.WriteStream): string {
  return stream.isTTY ? text.replace(CONTROL, "") : text;
}
