import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const WORKFLOWS = 'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETsig123';

describe('loadConfig: Teams and PUBLIC_URL', () => {
  it('leaves Teams without a default URL and links to http://localhost:PORT unless told otherwise', () => {
    expect(loadConfig({}).teamsWebhookUrl).toBeUndefined();
    expect(loadConfig({}).publicUrl).toBe('http://localhost:8009');
    expect(loadConfig({ PORT: '9100' }).publicUrl).toBe('http://localhost:9100');
    expect(loadConfig({ TEAMS_WEBHOOK_URL: '', PUBLIC_URL: ' ' })).toMatchObject({ teamsWebhookUrl: undefined, publicUrl: 'http://localhost:8009' });
  });

  it('takes a Workflows https URL as it is, signature included', () => {
    expect(loadConfig({ TEAMS_WEBHOOK_URL: WORKFLOWS }).teamsWebhookUrl).toBe(WORKFLOWS);
    expect(loadConfig({ TEAMS_WEBHOOK_URL: 'http://127.0.0.1:4000/hook?sig=x' }).teamsWebhookUrl).toBe('http://127.0.0.1:4000/hook?sig=x');
  });

  it.each(['not a url', 'http://teams.example.com/hook?sig=abc', 'ftp://example.com/hook', 'prod-12.logic.azure.com/workflows'])('refuses TEAMS_WEBHOOK_URL=%j, naming it, without echoing the value', (value) => {
    let error: unknown;
    try {
      loadConfig({ TEAMS_WEBHOOK_URL: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('TEAMS_WEBHOOK_URL');
    expect((error as Error).message).not.toContain('sig=abc');
  });

  it('takes PUBLIC_URL without its trailing slashes, path kept', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://hoop.example.com/' }).publicUrl).toBe('https://hoop.example.com');
    expect(loadConfig({ PUBLIC_URL: 'https://example.com/hoop//' }).publicUrl).toBe('https://example.com/hoop');
  });

  it.each(['hoop.example.com', 'https://hoop.example.com/?x=1', 'https://hoop.example.com/#top', 'javascript:alert(1)', 'https://user:pw@hoop.example.com'])('refuses PUBLIC_URL=%j', (value) => {
    expect(() => loadConfig({ PUBLIC_URL: value })).toThrow(/PUBLIC_URL: must be/);
  });
});
