"""MSAL Python's first client-credential token of a fresh process, as a CI job gets it:

    AZURE_CLIENT_SECRET=... msal_python_client.py <client_id> <authority> <ca_file> <scope>...

Its cache is in memory, so every run starts empty: tenant discovery (in the constructor), then the
token request.
"""
import os
import sys

import msal

client_id, authority, ca_file = sys.argv[1:4]
scopes = sys.argv[4:]

app = msal.ConfidentialClientApplication(
    client_id,
    client_credential=os.environ["AZURE_CLIENT_SECRET"],
    authority=authority,
    verify=ca_file,
    instance_discovery=False,
)
result = app.acquire_token_for_client(scopes)
if "access_token" not in result:
    sys.exit("msal python peer: %r" % (result,))
print(result["access_token"])
