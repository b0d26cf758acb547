/** The caller's own notification settings (api/contract/notifications.ts). */
import type { RequestHandler, Router } from 'express';
import { ApiError } from '../../errors';
import type { NotificationService } from '../../notifications/service';
import type { ApiContract } from '../contract';
import { me, serve } from './serve';

export function mountNotificationRoutes(
  user: Router,
  contract: ApiContract['notifications'],
  deps: {
    /** Absent: these routes answer 503 (an app built without the store's notifications). */
    notifications?: NotificationService;
    bodies: { control: RequestHandler };
  }
): void {
  const notifications = (): NotificationService => {
    if (!deps.notifications)
      throw new ApiError(
        503,
        'notifications_unavailable',
        'This sidecar was started without its store, so it keeps no notification settings.'
      );
    return deps.notifications;
  };
  const at = '/api';
  serve(user, at, contract.getNotifications, (_, req) =>
    notifications().get(me(req))
  );
  serve(
    user,
    at,
    contract.setNotifications,
    ({ body }, req) => notifications().set(me(req), body),
    [deps.bodies.control]
  );
  serve(user, at, contract.clearNotifications, (_, req) =>
    notifications().set(me(req), {})
  );
}
