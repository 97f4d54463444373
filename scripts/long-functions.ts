import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * Lists every function longer than a limit (default 100 lines, issue 14: long functions hide
 * steps that deserve a name) in the project's source, longest first; exits 1 when there is one.
 * A function counts from its first line to its last, nested functions included, so a route
 * registrar or a page built of closures is measured as a whole. Tests are not checked, and
 * generated files hold no functions.
 *
 *   tsx scripts/long-functions.ts [limit]
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIRS = ["functions", "adapters", "shared", "scripts"];
const limit = Number(process.argv[2] ?? 100);

function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const own = (node as { name?: ts.Node }).name;
  if (own) return own.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) {
    return parent.name.getText(sf);
  }
  if (ts.isCallExpression(parent)) return `callback of ${parent.expression.getText(sf)}`;
  return "(anonymous)";
}

const found: { lines: number; where: string; name: string }[] = [];
const files = execFileSync("git", ["ls-files", ...DIRS], { cwd: ROOT, encoding: "utf8" })
  .split("\n")
  .filter((f) => /\.(ts|tsx|mts|mjs)$/.test(f));
for (const file of files) {
  const kind = file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const text = readFileSync(resolve(ROOT, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > limit)
        found.push({ lines, where: `${file}:${first + 1}`, name: nameOf(node, sf) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
found.sort((a, b) => b.lines - a.lines);
for (const f of found) console.log(`${String(f.lines).padStart(5)}  ${f.where}  ${f.name}`);
console.log(`${found.length} function(s) over ${limit} lines`);
process.exitCode = found.length > 0 ? 1 : 0;
