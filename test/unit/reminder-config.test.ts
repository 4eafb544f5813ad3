// REVIEW_REMINDER_SEC (issue 10, reminders): half the timeout by default, 0 switches reminders off,
// and a reminder at or after the expiry is refused with a sentence that says what to set.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('REVIEW_REMINDER_SEC', () => {
  it('defaults to half of REVIEW_TIMEOUT_SEC, rounded down', () => {
    expect(loadConfig({}).reviewReminderSec).toBe(1800);
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '7' }).reviewReminderSec).toBe(3);
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '600', REVIEW_REMINDER_SEC: '' }).reviewReminderSec).toBe(300);
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '600', REVIEW_REMINDER_SEC: '  ' }).reviewReminderSec).toBe(300);
  });

  it('takes a value below the timeout, and 0 to switch reminders off', () => {
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '600', REVIEW_REMINDER_SEC: '599' }).reviewReminderSec).toBe(599);
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '600', REVIEW_REMINDER_SEC: '1' }).reviewReminderSec).toBe(1);
    expect(loadConfig({ REVIEW_REMINDER_SEC: '0' }).reviewReminderSec).toBe(0);
    // A one-second timeout has no room for a reminder: off by default, not an error.
    expect(loadConfig({ REVIEW_TIMEOUT_SEC: '1' }).reviewReminderSec).toBe(0);
  });

  it('refuses a reminder at or after the expiry, naming both variables and what to do', () => {
    for (const [timeout, reminder] of [['600', '600'], ['600', '601'], ['3600', '86400'], ['2', '2']]) {
      let error: unknown;
      try {
        loadConfig({ REVIEW_TIMEOUT_SEC: timeout, REVIEW_REMINDER_SEC: reminder });
      } catch (e) {
        error = e;
      }
      expect(error, `${timeout}/${reminder}`).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain(`REVIEW_REMINDER_SEC: is ${reminder}`);
      expect(message).toContain(`REVIEW_TIMEOUT_SEC=${timeout}`);
      expect(message).toContain('0 to switch reminders off');
    }
  });

  it('refuses what is not a whole number of seconds', () => {
    for (const bad of ['soon', '1.5', '-1', '30s', '1e9x']) {
      expect(() => loadConfig({ REVIEW_REMINDER_SEC: bad }), bad).toThrow(/REVIEW_REMINDER_SEC: must/);
    }
  });
});
