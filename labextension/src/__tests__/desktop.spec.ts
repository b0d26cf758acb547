/**
 * Desktop notifications: shown only while the page is hidden, with permission
 * and the setting on; permission asked once, on a submit; a click focuses the
 * tab and opens the job.
 */
import { DesktopNotices } from '../jobs/desktop';
import type { IJob } from '../service/model';
import { nbqueueBundle } from '../translation';

class FakeNotification {
  static permission: NotificationPermission = 'granted';
  static asked = 0;
  static made: FakeNotification[] = [];
  static async requestPermission(): Promise<NotificationPermission> {
    FakeNotification.asked += 1;
    return 'granted';
  }
  onclick: (() => void) | null = null;
  closed = false;
  constructor(
    readonly title: string,
    readonly options: NotificationOptions
  ) {
    FakeNotification.made.push(this);
  }
  close(): void {
    this.closed = true;
  }
}

function fakeWindow(visibility: DocumentVisibilityState) {
  const focus = jest.fn();
  return {
    win: {
      Notification: FakeNotification,
      document: { visibilityState: visibility },
      focus
    } as unknown as Window & typeof globalThis,
    focus
  };
}

const job = {
  id: 'j-1',
  name: 'train',
  state: 'failed',
  reason: 'Cell 2 raised ValueError: bad',
  has_result: true
} as IJob;

describe('desktop notifications', () => {
  beforeEach(() => {
    FakeNotification.made = [];
    FakeNotification.asked = 0;
    FakeNotification.permission = 'granted';
    window.localStorage.clear();
  });

  it('shows a hidden page the end, and a click focuses it and opens the job', () => {
    const { win, focus } = fakeWindow('hidden');
    const open = jest.fn();
    const notices = new DesktopNotices({
      enabled: () => true,
      storage: window.localStorage,
      trans: nbqueueBundle(),
      window: win
    });
    expect(notices.jobEnded(job, open)).toBe(true);
    const [shown] = FakeNotification.made;
    expect(shown.title).toBe('Job train failed');
    expect(shown.options.body).toBe('Cell 2 raised ValueError: bad');
    shown.onclick?.();
    expect(focus).toHaveBeenCalled();
    expect(open).toHaveBeenCalled();
    expect(shown.closed).toBe(true);
  });

  it('shows nothing on a visible page, without permission or with the setting off', () => {
    const cases: [DocumentVisibilityState, NotificationPermission, boolean][] =
      [
        ['visible', 'granted', true],
        ['hidden', 'denied', true],
        ['hidden', 'granted', false]
      ];
    for (const [visibility, permission, enabled] of cases) {
      FakeNotification.permission = permission;
      const notices = new DesktopNotices({
        enabled: () => enabled,
        storage: window.localStorage,
        trans: nbqueueBundle(),
        window: fakeWindow(visibility).win
      });
      expect(notices.jobEnded(job, jest.fn())).toBe(false);
    }
    expect(FakeNotification.made).toHaveLength(0);
  });

  it('asks for permission once, on the first submit', () => {
    FakeNotification.permission = 'default';
    const notices = new DesktopNotices({
      enabled: () => true,
      storage: window.localStorage,
      trans: nbqueueBundle(),
      window: fakeWindow('visible').win
    });
    expect(FakeNotification.asked).toBe(0); // not when it is made (page load)
    notices.askOnce();
    notices.askOnce();
    expect(FakeNotification.asked).toBe(1);
  });
});
