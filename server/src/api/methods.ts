/** A method a documented path does not serve is 405 with Allow, before anything else. */
import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import type { Operation } from './contract/operation';

export function methodNotAllowed(operations: Operation[]): RequestHandler {
  const table = new Map<string, { pattern: RegExp; methods: string[] }>();
  for (const op of operations) {
    const entry = table.get(op.path) ?? {
      pattern: new RegExp(
        `^${op.path
          .split(/\{[^}]+\}/)
          .map(part => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}$`
      ),
      methods: []
    };
    entry.methods.push(op.method.toUpperCase());
    table.set(op.path, entry);
  }
  const entries = [...table.values()];
  return (req, res, next) => {
    const methods = entries.find(e => e.pattern.test(req.path))?.methods;
    if (
      !methods ||
      methods.includes(req.method) ||
      (req.method === 'HEAD' && methods.includes('GET'))
    )
      return next();
    res.setHeader('Allow', methods.join(', '));
    next(
      new ApiError(
        405,
        'method_not_allowed',
        `${req.path} does not take ${req.method}; it takes ${methods.join(' and ')}. See GET /api/openapi.json.`
      )
    );
  };
}
