/** The streaming check of a result upload (notebook/outline.ts), fed in chunks of every size. */
import * as fs from 'fs';
import * as path from 'path';
import { NotebookOutline } from '../src/notebook/outline';
import { makeNotebooks, VARIANTS } from './helpers';

function check(text: string | Buffer, chunk: number): string | null {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const outline = new NotebookOutline();
  for (let i = 0; i < bytes.length; i += chunk)
    if (!outline.write(bytes.subarray(i, i + chunk))) break;
  return outline.end();
}

describe('NotebookOutline', () => {
  const dir = makeNotebooks();

  test.each(VARIANTS)(
    '%s (written by nbformat) is a notebook, whatever the chunks',
    name => {
      const bytes = fs.readFileSync(path.join(dir, name));
      for (const chunk of [1, 2, 3, 7, 64, 4096, bytes.length])
        expect([chunk, check(bytes, chunk)]).toEqual([chunk, null]);
    }
  );

  test('escapes, unicode, numbers and nesting of every kind pass', () => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        a: [1, -2.5e3, 0.1, true, false, null, {}, []],
        'k"\\': 'é\u2028\ud83d\ude00'
      },
      cells: [
        {
          cell_type: 'markdown',
          id: 'x',
          metadata: {},
          source: 'tab\there "q" \\ \u0001'
        },
        {
          cell_type: 'code',
          source: ['a', 'b'],
          outputs: [{ data: { 'text/plain': '1' } }]
        },
        { source: '', cell_type: 'raw', metadata: {} }
      ]
    };
    for (const chunk of [1, 5, 1000]) {
      expect(check(JSON.stringify(nb), chunk)).toBeNull();
      expect(check(JSON.stringify(nb, null, 1), chunk)).toBeNull();
    }
  });

  const base = '"nbformat": 4, "nbformat_minor": 5, "metadata": {}';
  test.each([
    ['', 'the file ends before the notebook does'],
    ['[1]', 'the notebook must be a JSON object'],
    [
      '{"nbformat": 4, "metadata": {}, "cells": []}',
      'the notebook has no "nbformat_minor"'
    ],
    [
      '{"nbformat": "4", "nbformat_minor": 5, "metadata": {}, "cells": []}',
      '"nbformat" must be the number 4'
    ],
    [`{${base}, "cells": {}}`, '"cells" must be an array'],
    [
      `{"nbformat": 4, "nbformat_minor": 5, "metadata": [], "cells": []}`,
      '"metadata" must be an object'
    ],
    [
      `{${base}, "cells": [{"cell_type": "code", "source": ""}, 2]}`,
      'cells[1] must be an object'
    ],
    [
      `{${base}, "cells": [{"cell_type": "heading", "source": ""}]}`,
      'cells[0] has cell_type "heading"'
    ],
    [`{${base}, "cells": [{"cell_type": "code"}]}`, 'cells[0] has no "source"'],
    [`{${base}, "cells": [],}`, 'a key (a string) expected'],
    [`{${base}, "cells": [1,]}`, 'cells[0] must be an object'],
    [`{${base}, "cells": []} {}`, 'more after the notebook'],
    [
      `{${base}, "cells": [], "x": "a\u0001"}`,
      'a control character inside a string'
    ],
    [`{${base}, "cells": [], "x": "\\q"}`, 'an invalid escape'],
    [`{${base}, "cells": [], "x": 01}`, 'an invalid value "01"'],
    [`{${base}, "cells": [], "x": tru}`, 'an invalid value "tru"'],
    [`{${base}, "cells": [], "x": [}`, 'unexpected "}"'],
    [`{${base}, "cells": [], "x": [1,]}`, 'unexpected "]"'],
    [`{${base}, "cells": []`, 'the file ends before the notebook does']
  ])('%s: %s', (text, problem) => {
    for (const chunk of [1, 4, 10_000])
      expect(check(text, chunk)).toContain(problem);
  });

  test('the problem says where it is', () => {
    expect(check(`{${base}, "cells": [{"cell_type": "code"}]}`, 3)).toMatch(
      /at byte \d+\)$/
    );
  });
});
