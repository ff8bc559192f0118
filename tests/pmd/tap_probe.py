"""Whether this host lets a test create a TAP device (shared by the pmd's net_tap tests).

Thread-safety: none needed (test scripts are single-threaded). Ownership: the probe device is
created and deleted here; nothing is left behind.
"""
import os
import subprocess


def tap_unavailable(name):
    """None when a TAP device called `name` can be created (it is deleted again at once), else
    why not: the tests then skip (exit 77) instead of failing."""
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
        return "/dev/net/tun is not usable"
    try:
        probe = subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"], capture_output=True)
    except FileNotFoundError:
        return "the ip command (iproute2) is not installed"
    if probe.returncode != 0:
        return "cannot create a TAP device: " + probe.stderr.decode().strip()
    subprocess.run(["ip", "tuntap", "del", "dev", name, "mode", "tap"], capture_output=True)
    return None
