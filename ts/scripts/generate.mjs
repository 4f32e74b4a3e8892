// Renders the TypeScript client in src/generated/ from the program's Codama IDL
// (../idl/paychan.json, written by `paychan idl`). With --check, renders into a temporary
// folder and fails if the committed files differ, so CI catches an IDL change that was not
// regenerated.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderVisitor } from "@codama/renderers-js";
import { createFromJson } from "codama";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const idlPath = join(root, "..", "idl", "paychan.json");
const generated = join(root, "src", "generated");
const check = process.argv.includes("--check");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/// The relative paths that differ between two folders (added, removed or changed).
function differences(expected, actual) {
  const read = (dir) => new Map(files(dir).map((f) => [relative(dir, f), readFileSync(f, "utf8")]));
  const want = read(expected);
  const have = read(actual);
  const names = new Set([...want.keys(), ...have.keys()]);
  return [...names].filter((name) => want.get(name) !== have.get(name)).sort();
}

/// Codama writes extensionless relative imports (`"../pdas"`), which only bundlers resolve;
/// Node's ES modules need the file (`"../pdas/index.js"`), so the package runs unbundled.
function addImportExtensions(dir) {
  for (const file of files(dir).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(file, "utf8");
    const fixed = source.replace(/(from\s+")(\.{1,2}\/[^"]*)(")/g, (_, open, spec, close) => {
      const target = join(dirname(file), spec);
      const resolved = existsSync(target) && statSync(target).isDirectory() ? `${spec}/index.js` : `${spec}.js`;
      return open + resolved + close;
    });
    writeFileSync(file, fixed);
  }
}

/// Codama's error module reads `process.env.NODE_ENV`, which a browser importing the package as
/// native ES modules (no bundler to replace it) does not have: it threw `process is not
/// defined` at import. Read it only where it exists, so messages are kept everywhere else.
function guardNodeGlobals(dir) {
  for (const file of files(dir).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(file, "utf8");
    const fixed = source.replaceAll("process.env.NODE_ENV", "globalThis.process?.env?.NODE_ENV");
    if (fixed !== source) writeFileSync(file, fixed);
  }
}

const codama = createFromJson(readFileSync(idlPath, "utf8"));
const target = check ? mkdtempSync(join(tmpdir(), "paychan-generated-")) : generated;
await codama.accept(renderVisitor(target, { deleteFolderBeforeRendering: true }));
addImportExtensions(target);
guardNodeGlobals(target);

if (check) {
  const stale = differences(target, generated);
  rmSync(target, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(`ts/src/generated is out of date (${stale.join(", ")}): run scripts/generate-clients.sh`);
    process.exit(1);
  }
  console.log("ts/src/generated matches idl/paychan.json");
} else {
  console.log(`rendered ${relative(root, generated)} from ${relative(root, idlPath)}`);
}
