/**
 * Mail and webhook notifications, set from JupyterLab's settings: when the
 * user changes `notifyEmail`, `notifyWebhook` or `notifyOn` in Settings →
 * nbqueue, the three go to the sidecar (PUT /api/notifications), which keeps
 * them per user, as `nbqueue notify` does. Nothing is sent on page load, so a
 * change made with the CLI stays until the next edit here.
 */
import type { ISettingRegistry } from '@jupyterlab/settingregistry';

import { describe } from '../service/errors';
import type { INbqueueService, ISettings } from '../tokens';
import { DEFAULT_SETTINGS } from '../tokens';
import type { TranslationBundle } from '../translation';

type Wanted = Pick<ISettings, 'notifyEmail' | 'notifyWebhook' | 'notifyOn'>;

function wanted(composite: Partial<ISettings>): Wanted {
  return {
    notifyEmail: composite.notifyEmail ?? DEFAULT_SETTINGS.notifyEmail,
    notifyWebhook: composite.notifyWebhook ?? DEFAULT_SETTINGS.notifyWebhook,
    notifyOn: composite.notifyOn ?? DEFAULT_SETTINGS.notifyOn
  };
}

export function syncNotifications(
  settings: ISettingRegistry.ISettings,
  service: Pick<INbqueueService, 'setNotifications'>,
  showError: (message: string) => void,
  trans: TranslationBundle
): void {
  let last = JSON.stringify(wanted(settings.composite as Partial<ISettings>));
  settings.changed.connect(() => {
    const now = wanted(settings.composite as Partial<ISettings>);
    const text = JSON.stringify(now);
    if (text === last) {
      return;
    }
    last = text;
    service
      .setNotifications({
        email: now.notifyEmail.trim() || null,
        webhook: now.notifyWebhook.trim() || null,
        on: now.notifyOn
      })
      .catch(error =>
        showError(
          trans.__(
            'nbqueue did not take your notification settings: %1',
            describe(error)
          )
        )
      );
  });
}
