import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfigFile, parseConfig } from '../src/config/load';
import { tmpDir } from './helpers';

describe('configuration', () => {
  test('built-in defaults have the four profiles, each with its own queue', () => {
    const config = parseConfig({});
    expect(config.profiles.map(p => p.name)).toEqual([
      'cpu',
      'gpu-1',
      'gpu-2',
      'gpu-8'
    ]);
    expect(config.queues.map(q => [q.name, q.profile])).toEqual([
      ['cpu', 'cpu'],
      ['gpu-1', 'gpu-1'],
      ['gpu-2', 'gpu-2'],
      ['gpu-8', 'gpu-8']
    ]);
    expect(config.limits.max_notebook_bytes).toBe(50 * 1024 * 1024);
    expect(config.server.port).toBe(8765);
  });

  test('a wrong field stops with a message naming it', () => {
    expect(() =>
      parseConfig({
        profiles: [
          { name: 'cpu', cpus: 2, gpus: -1, memory: '4Gi', capacity: 1 }
        ]
      })
    ).toThrow(/profiles\.0\.gpus/);
    expect(() => parseConfig({ server: { port: 'eighty' } })).toThrow(
      /server\.port/
    );
    expect(() => parseConfig({ limits: { max_notebook_bytez: 1 } })).toThrow(
      /limits.*max_notebook_bytez/
    );
    expect(() =>
      parseConfig({
        profiles: [
          { name: 'cpu', cpus: 2, gpus: 0, memory: 'lots', capacity: 1 }
        ]
      })
    ).toThrow(/profiles\.0\.memory: must be a Kubernetes quantity/);
  });

  test('a queue on an unknown profile and duplicates are refused', () => {
    const profiles = [
      { name: 'cpu', cpus: 2, gpus: 0, memory: '4Gi', capacity: 1 }
    ];
    expect(() =>
      parseConfig({ profiles, queues: [{ name: 'q', profile: 'gpu-9' }] })
    ).toThrow(/queues\.0\.profile: unknown profile "gpu-9"/);
    expect(() => parseConfig({ profiles: [...profiles, ...profiles] })).toThrow(
      /duplicate profile "cpu"/
    );
    expect(() => parseConfig({ default_priority: 'asap' })).toThrow(
      /default_priority/
    );
  });

  test('YAML files load, and a broken file names the file', () => {
    const dir = tmpDir();
    const good = path.join(dir, 'nbqueue.yaml');
    fs.writeFileSync(
      good,
      'server:\n  port: 9999\nlimits:\n  max_notebook_bytes: 1000\n'
    );
    const config = loadConfigFile(good);
    expect(config.server.port).toBe(9999);
    expect(config.limits.max_notebook_bytes).toBe(1000);
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'server: [unclosed\n');
    expect(() => loadConfigFile(bad)).toThrow(ConfigError);
    expect(() => loadConfigFile(bad)).toThrow(/bad\.yaml is not valid YAML/);
    expect(() => loadConfigFile(path.join(dir, 'missing.yaml'))).toThrow(
      /Cannot read configuration file/
    );
  });
});
