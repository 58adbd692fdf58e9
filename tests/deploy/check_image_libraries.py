#!/usr/bin/env python3
"""Checks that the runtime stage of deploy/docker/Dockerfile installs every Debian package whose
shared libraries the kam binaries load (ldd), so the image cannot drift from the build.

Usage: check_image_libraries.py DOCKERFILE BINARY...
Packages every debian:12-slim image has (the C and C++ runtime, zlib) need not be listed."""

import os
import re
import subprocess
import sys

IN_SLIM = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def package_of(path):
    # Debian 12 merges /lib into /usr/lib; dpkg knows each file under one of the two names.
    candidates = [path, os.path.realpath(path)]
    for candidate in list(candidates):
        if candidate.startswith("/usr/"):
            candidates.append(candidate[4:])
        else:
            candidates.append("/usr" + candidate)
    for candidate in candidates:
        found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout:
            return found.stdout.split(":", 1)[0].strip()
    return None


def runtime_packages(dockerfile):
    text = open(dockerfile).read()
    block = re.search(r"# runtime-packages: begin(.*?)# runtime-packages: end", text, re.S)
    if not block:
        sys.exit(f"{dockerfile}: no '# runtime-packages: begin/end' block")
    body = block.group(1).replace("\\\n", " ")
    install = re.search(r"apt-get install -y --no-install-recommends(.*?)(&&|$)", body, re.S)
    return set(install.group(1).split())


def main():
    dockerfile, binaries = sys.argv[1], sys.argv[2:]
    listed = runtime_packages(dockerfile)
    needed = {}
    for binary in binaries:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            match = re.search(r"=>\s+(/\S+)", line)
            if not match:
                continue
            package = package_of(match.group(1))
            if package is None:
                sys.exit(f"{binary}: {match.group(1)} belongs to no Debian package")
            needed.setdefault(package, set()).add(os.path.basename(binary))
    missing = sorted(p for p in needed if p not in listed and p not in IN_SLIM)
    if missing:
        for package in missing:
            print(f"missing in the runtime stage: {package} (loaded by "
                  f"{', '.join(sorted(needed[package]))})")
        sys.exit(1)
    unused = sorted(p for p in listed if p not in needed and p != "ca-certificates")
    if unused:
        print(f"listed but loaded by no binary: {', '.join(unused)}")
        sys.exit(1)
    print(f"{len(needed)} packages, every one installed by the runtime stage")


if __name__ == "__main__":
    main()
