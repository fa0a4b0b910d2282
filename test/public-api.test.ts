/**
 * The public surface (package root and `/core`), checked on the emitted
 * declaration files with the TypeScript compiler: every exported name is
 * documented, and no exported signature uses a type of ours that a user
 * cannot name (one exported neither from the root nor from `/core`).
 */
import test from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const DIST_LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib');
const ENTRIES = [path.join(DIST_LIB, 'index.d.ts'), path.join(DIST_LIB, 'core', 'index.d.ts')];

const program = ts.createProgram(ENTRIES, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'], skipLibCheck: true });
const checker = program.getTypeChecker();

const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
const ours = (s: ts.Symbol) => (s.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(DIST_LIB + path.sep));

function exportsOf(entry: string): ts.Symbol[] {
  const sf = program.getSourceFile(entry);
  if (!sf) throw new Error(`not compiled: ${entry}`);
  return checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!);
}

const exported = ENTRIES.flatMap(exportsOf);
const reachable = new Set(exported.map(resolve));

/** Names of our types that the declarations of `s` mention. */
function referencedTypes(s: ts.Symbol): ts.Symbol[] {
  const found: ts.Symbol[] = [];
  const visit = (node: ts.Node): void => {
    // Private members are emitted without types; nothing to check there.
    if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isImportTypeNode(node) || ts.isTypeQueryNode(node)) {
      const at = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : ts.isImportTypeNode(node) ? (node.qualifier ?? node) : node.exprName;
      const sym = checker.getSymbolAtLocation(at);
      if (sym) found.push(resolve(sym));
    }
    ts.forEachChild(node, visit);
  };
  for (const d of resolve(s).declarations ?? []) visit(d);
  return found;
}

test('every exported name of the root and of /core is documented (TSDoc)', (t) => {
  const undocumented = exported.filter((s) => resolve(s).getDocumentationComment(checker).length === 0).map((s) => s.name);
  t.deepEqual(undocumented, []);
});

test('no exported signature uses a type of ours that is not exported itself', (t) => {
  const problems: string[] = [];
  for (const s of exported) {
    for (const r of referencedTypes(s)) {
      if (ours(r) && !reachable.has(r) && !(r.flags & ts.SymbolFlags.TypeParameter)) problems.push(`${s.name} uses ${r.name}`);
    }
  }
  t.deepEqual([...new Set(problems)].sort(), []);
});

test('the stage factories and decodeSnapshot are on the root; internals are not', (t) => {
  const names = new Set(exportsOf(ENTRIES[0]!).map((s) => s.name));
  for (const n of ['decodeSnapshot', 'createSnapshotReader', 'createVersionResolver', 'createKeyClassifier', 'createRecordFilter', 'createBlobSpiller', 'createBucketCollector', 'createDirectorySink', 'createTarSink', 'createDumpSink', 'DecodeError', 'ERROR_CODES']) {
    t.true(names.has(n), n);
  }
  for (const n of ['planObjects', 'classifyRecord', 'PositionedReader', 'DumpSinkImpl']) t.false(names.has(n), n);
});
