import { describe, expect, it } from 'vitest';
import { groupingPath, pushRequest } from '../../../src/report/metrics-push.js';
import { redactUrl } from '../../../src/util/secrets.js';

describe('groupingPath', () => {
  it('groups by job and command, then the configured labels sorted, ignoring job/command overrides', () => {
    expect(groupingPath({ job: 'rearguard', labels: { instance: 'db1', env: 'prod', command: 'x' } }, 'verify')).toBe(
      'metrics/job/rearguard/command/verify/env/prod/instance/db1',
    );
  });

  it('encodes values with "/" or empty values in base64url, as the Pushgateway expects', () => {
    expect(groupingPath({ job: 'a/b', labels: { site: '' } }, 'restore-test')).toBe(
      `metrics/job@base64/${Buffer.from('a/b').toString('base64url')}/command/restore-test/site@base64/=`,
    );
    expect(groupingPath({ job: 'a b', labels: {} }, 'verify')).toBe('metrics/job/a%20b/command/verify');
  });
});

describe('pushRequest', () => {
  it('moves URL credentials into a Basic Authorization header and keeps a path prefix', () => {
    const request = pushRequest({ url: 'https://user:p%40ss@push.example.org/pgw/', job: 'rearguard', labels: {} }, 'orchestrate');
    expect(request.url).toBe('https://push.example.org/pgw/metrics/job/rearguard/command/orchestrate');
    expect(Buffer.from(request.authorization?.replace('Basic ', '') ?? '', 'base64').toString()).toBe('user:p@ss');
    expect(pushRequest({ url: 'http://127.0.0.1:9091', job: 'j', labels: {} }, 'verify')).toEqual({
      url: 'http://127.0.0.1:9091/metrics/job/j/command/verify',
    });
  });
});

describe('redactUrl', () => {
  it('hides user info and query values, keeps host and path', () => {
    expect(redactUrl('https://user:secret@hooks.example.org/backup?token=abc&x=1')).toBe('https://***@hooks.example.org/backup?token=***&x=***');
    expect(redactUrl('http://127.0.0.1:9091')).toBe('http://127.0.0.1:9091/');
    expect(redactUrl('not a url with https://u:pw@h/')).not.toContain('pw');
  });
});
