"""MSAL Python (Debian's python3-msal 1.21) as an app sharing a token cache file, for the interop matrix.

    msal_python_peer.py login  <cache_file> <client_id> <authority> <ca_file> <username> <scope>...
        (the password on stdin) acquire_token_by_username_password
    msal_python_peer.py silent <cache_file> <client_id> <authority> <ca_file> <username|-> <force> <scope>...
        acquire_token_silent_with_error for the account with that username ("-": the only one);
        force "1" sets force_refresh
    msal_python_peer.py client <cache_file> <client_id> <authority> <ca_file> <secret> <force> <scope>...
        force "0": acquire_token_silent(scopes, account=None), how 1.21 reads app-only tokens, and
        acquire_token_for_client on a miss; force "1": acquire_token_for_client (1.21 never reads
        the cache there), a new token written to the file

The cache is saved when it changed. Prints one JSON line: the accounts, the access token (or the
error), its token_source and whether the cache changed.
"""
import json
import sys

from urllib.parse import urlparse

import msal

command, cache_file, client_id, authority, ca_file = sys.argv[1:6]
rest = sys.argv[6:]

cache = msal.SerializableTokenCache()
try:
    with open(cache_file) as f:
        cache.deserialize(f.read())
except FileNotFoundError:
    pass

common = dict(authority=authority, token_cache=cache, verify=ca_file, instance_discovery=False)


def with_aliases(app):
    """Gives 1.21 the alias group {127.0.0.1, 127.0.0.1:<port>} of the loopback STS.

    For login.microsoftonline.com, 1.21 learns its aliases (login.windows.net, ...) from the public
    cloud's instance metadata; for a test STS it would ask that same public endpoint, so the group is
    given up front, as msal-node's cloudDiscoveryMetadata is. instance_discovery=False at
    construction skips authority validation; re-enabling it afterwards only turns on the alias
    fallback of get_accounts and acquire_token_silent.
    """
    parsed = urlparse(authority)
    app.authority_groups = [{parsed.hostname, parsed.netloc}]
    app._instance_discovery = None
    return app
accounts = []
source = None
if command == "client":
    secret, force, scopes = rest[0], rest[1], rest[2:]
    app = with_aliases(msal.ConfidentialClientApplication(client_id, client_credential=secret, **common))
    result = None
    if force != "1":
        result = app.acquire_token_silent(scopes, account=None)
        source = "cache" if result else None
    if not result:
        result = app.acquire_token_for_client(scopes)
        source = "identity_provider"
else:
    app = with_aliases(msal.PublicClientApplication(client_id, **common))
    if command == "login":
        username, scopes = rest[0], rest[1:]
        # 1.21 builds the user realm URL from the host without its port, so on a test STS at
        # 127.0.0.1:<port> it would knock on port 443. Mark the host as one without user realm
        # discovery (what 1.21 itself does after a 404); the password grant then goes ahead as usual.
        msal.authority.Authority._domains_without_user_realm_discovery.add(app.authority.instance)
        password = sys.stdin.read().rstrip("\n")
        result = app.acquire_token_by_username_password(username, password, scopes)
        source = "identity_provider"
    elif command == "silent":
        username, force, scopes = rest[0], rest[1], rest[2:]
        found = app.get_accounts(username=None if username == "-" else username)
        if len(found) != 1:
            result = {"error": "accounts", "error_description": "%d accounts" % len(found)}
        else:
            result = app.acquire_token_silent_with_error(
                scopes, found[0], force_refresh=force == "1") or {"error": "cache_miss"}
    else:
        sys.exit("unknown command " + command)
    accounts = app.get_accounts()

changed = cache.has_state_changed
if changed:
    with open(cache_file, "w") as f:
        f.write(cache.serialize())
print(json.dumps({
    "accounts": accounts,
    "access_token": result.get("access_token"),
    "token_source": result.get("token_source", source),
    "error": result.get("error"),
    "error_description": result.get("error_description"),
    "cache_changed": changed,
}))
