/**
 * The modules of labextension/src import each other without a cycle, and the
 * shared tokens are interfaces: tokens.ts imports only types, so no plugin
 * depends on another's concrete classes through it.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..');

/** Every .ts/.tsx source file under `dir` (declarations excluded). */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return sources(full);
    }
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')
      ? [full]
      : [];
  });
}

interface IImport {
  specifier: string;
  typeOnly: boolean;
}

// `import … from './x'`, `import type … from './x'`, `export … from './x'`,
// `import './x'` and `import('./x')`, over several lines too.
const STATIC =
  /\b(import|export)\s+(type\s+)?(?:[^'";]*?\s*from\s*)?['"](\.{1,2}\/[^'"]*)['"]/g;
const DYNAMIC = /\bimport\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*\)/g;

/** The relative imports of a source text. */
export function relativeImports(text: string): IImport[] {
  const found: IImport[] = [];
  for (const match of text.matchAll(STATIC)) {
    found.push({ specifier: match[3], typeOnly: !!match[2] });
  }
  for (const match of text.matchAll(DYNAMIC)) {
    found.push({ specifier: match[1], typeOnly: false });
  }
  return found;
}

/** The file a relative specifier names, as TypeScript resolves it. */
function resolve(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [
    base,
    `${base}.ts`,
    `${base}.tsx`,
    path.join(base, 'index.ts'),
    path.join(base, 'index.tsx')
  ];
  return (
    candidates.find(c => fs.existsSync(c) && fs.statSync(c).isFile()) ?? null
  );
}

/** Each file's imported files. */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf-8');
    const targets = relativeImports(text)
      .map(({ specifier }) => resolve(file, specifier))
      .filter((target): target is string => target !== null);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle of the graph as a path (first node repeated at the end), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        return [...stack.slice(stack.indexOf(next)), next];
      }
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) {
          return cycle;
        }
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) {
        return cycle;
      }
    }
  }
  return null;
}

describe('the import graph of labextension/src', () => {
  it('reads every form of relative import', () => {
    const text = [
      "import { a } from './a';",
      'import type {',
      '  B,',
      '  C',
      "} from '../b';",
      "import * as d from './d';",
      "export { e } from './e';",
      "import './f.css';",
      "const g = await import('./g');",
      "import React from 'react';"
    ].join('\n');
    expect(relativeImports(text)).toEqual([
      { specifier: './a', typeOnly: false },
      { specifier: '../b', typeOnly: true },
      { specifier: './d', typeOnly: false },
      { specifier: './e', typeOnly: false },
      { specifier: './f.css', typeOnly: false },
      { specifier: './g', typeOnly: false }
    ]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['tokens', ['client']],
      ['client', ['model']],
      ['model', ['tokens']],
      ['index', ['tokens']]
    ]);
    expect(findCycle(graph)).toEqual(['tokens', 'client', 'model', 'tokens']);
    graph.set('model', []);
    expect(findCycle(graph)).toBeNull();
  });

  it('has no cycle, type-only imports included', () => {
    const graph = importGraph(sources(SRC));
    expect(graph.size).toBeGreaterThan(40);
    const cycle = findCycle(graph);
    expect(cycle?.map(file => path.relative(SRC, file)) ?? null).toBeNull();
  });

  it('gives tokens.ts types only: no concrete class of the extension', () => {
    const tokens = path.join(SRC, 'tokens.ts');
    const imports = relativeImports(fs.readFileSync(tokens, 'utf-8'));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter(i => !i.typeOnly)).toEqual([]);
  });
});
