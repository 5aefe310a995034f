"""MSAL Python's cache-hit path, as an app that shares a cache file would write it:

    msal_python.py <cache_file> <client_id> <authority> <ca_file> <scope>...

The constructor's tenant discovery GET is left in on purpose: every MSAL Python process pays it.
"""
import sys

import msal

cache_file, client_id, authority, ca_file = sys.argv[1:5]
scopes = sys.argv[5:]

cache = msal.SerializableTokenCache()
with open(cache_file) as f:
    cache.deserialize(f.read())
app = msal.PublicClientApplication(
    client_id, authority=authority, token_cache=cache, verify=ca_file, instance_discovery=False
)
accounts = app.get_accounts()
if len(accounts) != 1:
    sys.exit("msal python peer: expected one account, found %d" % len(accounts))
result = app.acquire_token_silent(scopes, accounts[0])
if not result or "access_token" not in result:
    sys.exit("msal python peer: %r" % (result,))
if cache.has_state_changed:
    with open(cache_file, "w") as f:
        f.write(cache.serialize())
print(result["access_token"])
