import { describe, expect, it } from 'vitest';
import { claimAt, rolesOf } from '../src/auth/token-admission.js';
import { looksLikeJwt } from '../src/auth/token-verifier.js';
import { UserRole } from '../src/users/user.entity.js';

describe('claims of access tokens', () => {
  it('reads a claim by its name, URL names included, or by a dotted path', () => {
    const claims = {
      'https://example.com/tenant': 'acme',
      realm_access: { roles: ['user'] },
      tenant: 'globex',
    };
    expect(claimAt(claims, 'https://example.com/tenant')).toBe('acme');
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['user']);
    expect(claimAt(claims, 'tenant')).toBe('globex');
    expect(claimAt(claims, 'realm_access.nothing')).toBeUndefined();
    expect(claimAt(claims, 'tenant.length')).toBeUndefined();
    expect(claimAt(claims, '__proto__.constructor')).toBeUndefined();
  });

  it('maps role values to the strongest role, READONLY without a known one; platform admins only explicitly', () => {
    expect(rolesOf(['readonly', 'USER'])).toEqual({ role: UserRole.USER, platformAdmin: false });
    expect(rolesOf('service readonly')).toEqual({ role: UserRole.SERVICE, platformAdmin: false });
    expect(rolesOf(['admin'])).toEqual({ role: UserRole.ADMIN, platformAdmin: false });
    expect(rolesOf(['platform-admin'])).toEqual({ role: UserRole.ADMIN, platformAdmin: true });
    expect(rolesOf(['superuser', 42])).toEqual({ role: UserRole.READONLY, platformAdmin: false });
    expect(rolesOf(undefined)).toEqual({ role: UserRole.READONLY, platformAdmin: false });
    expect(rolesOf({ admin: true })).toEqual({ role: UserRole.READONLY, platformAdmin: false });
  });

  it('tells JWTs from API keys by their shape', () => {
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.')).toBe(true);
    expect(looksLikeJwt('mcp_0123456789abcdef0123456789abcdef')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
  });
});
