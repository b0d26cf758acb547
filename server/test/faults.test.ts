import { spawnSync } from 'child_process';
import * as path from 'path';
import { FAULT_POINTS, armFaults } from '../src/faults';

/** NBQUEUE_FAULTS (src/faults.ts): what it accepts, and that a fault kills only at its count. */
describe('fault injection (test only)', () => {
  afterEach(() => armFaults(undefined));

  test('unset or empty arms nothing', () => {
    expect(armFaults(undefined)).toEqual([]);
    expect(armFaults(' , ')).toEqual([]);
  });

  test('parses points with an optional count', () => {
    expect(armFaults('crash:submit.answered, crash:finish.received@3')).toEqual(
      ['submit.answered@1', 'finish.received@3']
    );
  });

  test('refuses what it cannot do, saying what is possible', () => {
    expect(() => armFaults('crash:nowhere')).toThrow(
      `NBQUEUE_FAULTS: there is no fault point 'nowhere'; the points are ${FAULT_POINTS.join(', ')}.`
    );
    expect(() => armFaults('hang:finish.received')).toThrow(
      /'hang:finish.received' is not crash:<point>\[@<n>\]/
    );
    expect(() => armFaults('crash:finish.received@0')).toThrow(
      /is not crash:<point>\[@<n>\]/
    );
  });

  test('kills the process with SIGKILL the n-th time its point is reached, not before', () => {
    const dist = path.join(__dirname, '..', 'dist', 'faults.js');
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `const f = require(${JSON.stringify(dist)}); f.armFaults(process.env.NBQUEUE_FAULTS);
         f.fault('finish.received'); console.log('reached once');
         f.fault('result.stored'); console.log('other point');
         f.fault('finish.received'); console.log('reached twice');`
      ],
      { env: { ...process.env, NBQUEUE_FAULTS: 'crash:finish.received@2' } }
    );
    expect(run.signal).toBe('SIGKILL');
    expect(String(run.stdout)).toBe('reached once\nother point\n');
    expect(String(run.stderr)).toContain(
      'fault finish.received@2: killing the sidecar'
    );
  });
});
