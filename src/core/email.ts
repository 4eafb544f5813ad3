// How the gateway compares emails: one rule for config, the API, the CLI and Slack.

/**
 * Emails compare case-insensitively: they are stored (and looked up) trimmed, with A-Z folded to
 * a-z. Only ASCII letters fold: Unicode case folding makes look-alikes equal (KELVIN SIGN U+212A
 * lower-cases to "k"), so kate@\u212Aiosk.example must not become kate@kiosk.example.
 */
export function normalizeEmail(email: string): string {
  return email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}
