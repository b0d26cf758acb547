import * as fs from 'fs';
import * as path from 'path';

import Ajv from 'ajv';

import { EventLog } from './fixtures';

const schemaPath = path.resolve(
  __dirname,
  '../../../server/schema/events.schema.json'
);

describe('job events', () => {
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf-8'));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('of every type, as the tests build them, match events.schema.json', () => {
    const log = new EventLog();
    log.runStarted(2);
    log.cellStarted('a');
    log.executionCount('a', 1);
    log.executionCount('a', null);
    log.stream('a', 'x\n');
    log.display('a', 'd', 'display-1');
    log.display('a', 'd');
    log.error('a');
    log.clear('a', true);
    log.updateDisplay('display-1', 'e');
    log.cellFinished('a', 'error');
    log.metric('loss', null, 3);
    log.log('hello');
    log.outputValue('accuracy', { top1: 0.9 });
    log.attempt(2, 3);
    const types = new Set(log.all.map(event => event.type));
    expect(types).toEqual(new Set(schema.properties.type.enum));
    for (const event of log.all) {
      expect({
        event,
        valid: validate(event),
        errors: validate.errors
      }).toMatchObject({
        valid: true
      });
    }
  });

  it('that break the schema are refused by it (the check is not vacuous)', () => {
    expect(validate({ seq: 1, time: 0, type: 'output', cell_id: 'a' })).toBe(
      false
    );
    expect(
      validate({ seq: 0, time: 0, type: 'log', level: 'info', message: '' })
    ).toBe(false);
    expect(
      validate({ seq: 2, time: 0, type: 'clear_output', cell_id: 'a' })
    ).toBe(false);
  });
});
