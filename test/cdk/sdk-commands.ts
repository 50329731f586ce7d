/**
 * Which AWS SDK commands a Lambda's code can send: the import graph from its entry
 * (relative imports only), and in each file every `new XxxCommand(` whose class is imported
 * from an `@aws-sdk/client-*` package. The IAM action is `<service>:<Xxx>`. File-level: a
 * file's commands count for every Lambda that imports the file (the test says which of
 * them a Lambda cannot reach, and why).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

export interface SdkCall {
  /** Path relative to the project root. */
  file: string;
  /** IAM action, e.g. `kms:Sign`. */
  action: string;
}

/** The IAM service prefix of each SDK client package the bridge uses. */
const SERVICE_OF: Record<string, string> = {
  "@aws-sdk/client-kms": "kms",
  "@aws-sdk/client-acm-pca": "acm-pca",
  "@aws-sdk/client-dynamodb": "dynamodb",
  "@aws-sdk/client-lambda": "lambda",
  "@aws-sdk/client-sts": "sts",
};

const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)"(\.{1,2}\/[^"]+)"/g;
const SDK_IMPORT = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/client-[a-z0-9-]+)"/g;
const NEW_ANY = /\bnew\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*\(/g;

function resolveImport(from: string, spec: string): string {
  const target = resolve(dirname(from), spec);
  for (const candidate of [target.replace(/\.js$/, ".ts"), target, `${target}.ts`])
    if (existsSync(candidate) && candidate.endsWith(".ts")) return candidate;
  if (/\.(m?js|json)$/.test(target) && existsSync(target)) return target;
  throw new Error(`${from}: cannot resolve import ${spec}`);
}

function commandsIn(file: string, source: string, root: string): SdkCall[] {
  // local name → [service, command class], aliases (`X as Y`) included.
  const imported = new Map<string, [string, string]>();
  for (const [, names, pkg] of source.matchAll(SDK_IMPORT)) {
    const service = SERVICE_OF[pkg!];
    if (!service) throw new Error(`${file}: unknown SDK client ${pkg}; add its IAM prefix`);
    for (const name of names!.split(",")) {
      const [original, local = original] = name
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/);
      if (original?.endsWith("Command")) imported.set(local!, [service, original]);
    }
  }
  const calls: SdkCall[] = [];
  for (const [, local] of source.matchAll(NEW_ANY)) {
    const found = imported.get(local!);
    if (found)
      calls.push({ file: relative(root, file), action: `${found[0]}:${found[1].replace(/Command$/, "")}` });
    else if (local!.endsWith("Command"))
      throw new Error(`${file}: new ${local}( is not imported from an @aws-sdk client`);
  }
  return calls;
}

/** Every SDK command reachable by import from `entry`, once per file and action. */
export function sdkCallsFrom(entry: string, root: string): SdkCall[] {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  const calls = new Map<string, SdkCall>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith(".ts")) continue;
    const source = readFileSync(file, "utf8");
    for (const call of commandsIn(file, source, root)) calls.set(`${call.file} ${call.action}`, call);
    for (const [, spec] of source.matchAll(RELATIVE_IMPORT)) queue.push(resolveImport(file, spec!));
  }
  return [...calls.values()].sort((a, b) => `${a.file}${a.action}`.localeCompare(`${b.file}${b.action}`));
}
