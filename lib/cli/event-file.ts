/**
 * Event files (`invoke --event`, `demo --event`, `dev --with-function`): JSON, any value,
 * read from a path or stdin ("-"). A file that cannot be read or parsed is a usage error
 * on one line (JSON.parse quotes the text it choked on, newlines and all).
 */
import { UsageError } from "./exit-codes.js";
import type { CliIo } from "./output.js";

export async function readEventFile(io: CliIo, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await io.readInput(path);
  } catch (error) {
    throw new UsageError(`cannot read the event file ${path}: ${oneLine((error as Error).message)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`the event file ${path} is not JSON: ${oneLine((error as Error).message)}`);
  }
}

function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, " ");
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
