import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AuthorityBuilder,
  authorityBuilder,
  cloudHost,
  needsInstanceDiscovery,
  openIdConfigurationUrl,
  parseAuthority,
  regionalHost,
  takesRegion,
} from '../../src/core/authority/authority.js'
import { UsageError } from '../../src/core/kernel/errors.js'

test('AuthorityBuilder joins a cloud host and a tenant', () => {
  assert.equal(
    authorityBuilder('login.microsoftonline.us/', '/contoso/'),
    'https://login.microsoftonline.us/contoso',
  )
  assert.equal(authorityBuilder(cloudHost('china'), 't'), 'https://login.chinacloudapi.cn/t')
  assert.equal(authorityBuilder('https://127.0.0.1:8443', 't'), 'https://127.0.0.1:8443/t')
  assert.equal(
    String(new AuthorityBuilder(cloudHost('usgov'), 'contoso')),
    'https://login.microsoftonline.us/contoso',
  )
})

test('kinds: AAD, B2C by host and by path, CIAM, ADFS', () => {
  assert.equal(parseAuthority('https://login.microsoftonline.com/common').kind, 'aad')
  assert.equal(
    parseAuthority('https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin').kind,
    'b2c',
  )
  assert.equal(parseAuthority('https://login.microsoftonline.com/tfp/B2C_1_x').kind, 'b2c')
  assert.equal(parseAuthority('https://contoso.ciamlogin.com').tenant, 'contoso.onmicrosoft.com')
  assert.equal(parseAuthority('https://adfs.contoso.com/ADFS').kind, 'adfs')
})

test('instance is the lower-cased host, tenant keeps its case', () => {
  const a = parseAuthority('https://Login.MicrosoftOnline.com/Contoso.onmicrosoft.com?x=1#y')
  assert.equal(a.instance, 'login.microsoftonline.com')
  assert.equal(a.tenant, 'Contoso.onmicrosoft.com')
})

test('https only, http on loopback, a tenant required', () => {
  for (const bad of [
    'http://login.microsoftonline.com/common',
    'https://login.microsoftonline.com',
    'not a url',
    'ftp://x/y',
  ]) {
    assert.throws(() => parseAuthority(bad), UsageError, bad)
  }
  for (const ok of ['http://127.0.0.1:1234/t', 'http://localhost/t', 'http://[::1]:9/t']) {
    assert.equal(parseAuthority(ok).scheme, 'http:')
  }
})

test('discovery URLs follow MSAL, trailing slashes and all', () => {
  assert.equal(
    openIdConfigurationUrl(parseAuthority('https://login.microsoftonline.com/common')),
    'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
  )
  assert.equal(
    openIdConfigurationUrl(
      parseAuthority('https://login.microsoftonline.com/contoso.onmicrosoft.com/'),
    ),
    'https://login.microsoftonline.com/contoso.onmicrosoft.com//v2.0/.well-known/openid-configuration',
  )
  assert.equal(
    openIdConfigurationUrl(parseAuthority('https://adfs.contoso.com/adfs')),
    'https://adfs.contoso.com/adfs/.well-known/openid-configuration',
  )
  assert.equal(
    openIdConfigurationUrl(parseAuthority('https://contoso.ciamlogin.com')),
    'https://contoso.ciamlogin.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration',
  )
  assert.equal(
    openIdConfigurationUrl(parseAuthority('https://id.example.com/realms/x', { oidc: true })),
    'https://id.example.com/realms/x/.well-known/openid-configuration',
  )
})

test('instance discovery only for unknown Entra hosts', () => {
  assert.equal(needsInstanceDiscovery(parseAuthority('https://login.microsoftonline.com/t')), false)
  assert.equal(needsInstanceDiscovery(parseAuthority('https://login.windows.net/t')), true)
  assert.equal(
    needsInstanceDiscovery(parseAuthority('https://contoso.b2clogin.com/t/b2c_1_x')),
    false,
  )
})

test('regional hosts', () => {
  assert.equal(
    regionalHost(parseAuthority('https://login.microsoftonline.com/t'), 'westus2'),
    'westus2.login.microsoft.com',
  )
  assert.equal(
    regionalHost(parseAuthority('https://login.microsoftonline.us/t'), 'usgovvirginia'),
    'usgovvirginia.login.microsoftonline.us',
  )
})

test('a region goes with an Entra host name, never with an IP address however it is written', () => {
  for (const url of [
    'https://login.microsoftonline.com/t',
    'https://sts.contoso.example/t',
    'https://a1.example/t',
  ]) {
    assert.equal(takesRegion(parseAuthority(url)), true, url)
  }
  for (const url of [
    'https://127.0.0.1:8443/t',
    'https://10.1/t',
    'https://0x7f000001/t',
    'https://[::1]:9/t',
    'https://[2001:db8::1]/t',
    'https://login.b2clogin.com/tfp/t/p',
  ]) {
    assert.equal(takesRegion(parseAuthority(url)), false, url)
  }
})
