// @jupyter/ydoc builds cells before adding them to their document, which
// makes yjs warn on every NotebookModel.insertCells; other warnings pass.
const warn = console.warn;
const YJS_NOISE = ['Invalid access: Add Yjs type', '[yjs#509] Not same Y.Doc'];

beforeAll(() => {
  jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    const first = String(args[0]);
    if (!YJS_NOISE.some(noise => first.startsWith(noise))) {
      warn(...args);
    }
  });
});

afterAll(() => jest.restoreAllMocks());
