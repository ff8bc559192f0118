#!/usr/bin/env python3
"""Two real phones through srtp-offload (issue 6): baresip -> srtpo-cp -> baresip, audio both ways.

Two baresip 1.0 UAs (Debian baresip-core, `srtp-mand`: SDES, RFC 4568) call each other through
srtpo-cp's B2BUA over SIP/TLS. srtpo-cp answers the caller (leg A) with AES_CM_128_HMAC_SHA1_80
and its own key, offers the callee (leg B) B_SUITE (AEAD_AES_128_GCM, RFC 7714, by default; or
AES_CM_128_HMAC_SHA1_32, RFC 4568 §6.2) with another fresh key, and
writes the call's flows to the session table. The media goes through a LIVE srtpo-pmd port:

    alice 10.N.0.1:A  --SRTP CM_80-->  [TAP srtpoBr<pid>]  srtpo-pmd port 0 (net_tap, --table)
                                       engine 10.N.0.2:Pa / :Pb  --SRTP B_SUITE-->  bob 10.N.0.1:B

The kernel owns the TAP's side, 10.N.0.1/24; the engine's media address 10.N.0.2 has a static
neighbour entry whose link-layer address is the TAP's own MAC. srtpo-pmd sends a processed
frame back to the station it came from (docs/pmd.md, Ethernet addressing): the TAP's kernel
side, which accepts it as its own (PACKET_HOST). Both baresips bind 10.N.0.1 (`net_interface`), srtpo-cp's
[media] address is 10.N.0.2, so every RTP/RTCP packet crosses the pmd and is transcrypted there.

Passes only if both baresips establish the call, both report received RTP with 0 errors
(`rtp_stats`), srtpo-pmd's final counters show transcrypted packets (status ok, tx) that each side
received, the suites each baresip logged differ per leg, and no flow is left after the hang-up.
Exit 77 (skipped) only when a TAP device cannot be created here.

argv: srtpo-pmd srtpo-cp keying-ctl [B_SUITE]. Ports 37000-37999 only.
"""
import atexit, json, os, re, shutil, signal, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap_probe import tap_unavailable  # noqa: E402

pmd_bin, cp_bin, ctl_bin = (sys.argv[1:4] if len(sys.argv) >= 4 else
                            (os.environ.get("SRTPO_PMD", "srtpo-pmd"), os.environ.get("SRTPO_CP", "srtpo-cp"),
                             os.environ.get("SRTPO_KEYING_CTL", "keying-ctl")))
pmd_bin, cp_bin, ctl_bin = (os.path.abspath(b) if "/" in b else b for b in (pmd_bin, cp_bin, ctl_bin))
B_SUITE = sys.argv[4] if len(sys.argv) > 4 else "AEAD_AES_128_GCM"   # what srtpo-cp offers bob
pid = os.getpid()
tap = "srtpoBr%d" % pid                      # IFNAMSIZ: 7 + at most 7 digits
net = "10.237.%d" % (pid % 250 + 1)
host_ip, engine_ip = net + ".1", net + ".2"
CP_TLS, ALICE_SIP, BOB_SIP = 37061, 37100, 37110      # baresip: TLS on SIPPORT+1 (libre)
ALICE_RTP, BOB_RTP, MEDIA_MIN, MEDIA_MAX = 37200, 37300, 37400, 37499
CALL_SECONDS = 4
table = "/srtpo-baresip-%d" % pid
prefix = "srtpo-baresip-%d" % pid

procs = []          # (name, Popen): stopped by PID at the end
cleaned = False
work = tempfile.mkdtemp(prefix="srtpo-baresip-")


def skip(why):
    print("SKIP: " + why)
    cleanup()
    sys.exit(77)


def fail(why):
    print("FAIL: " + why)
    for name in ("cp.log", "pmd.log", "alice.log", "bob.log"):
        p = os.path.join(work, name)
        if os.path.exists(p):
            print("---- %s (tail)" % name)
            print(strip(open(p, errors="replace").read())[-6000:])
    cleanup()
    sys.exit(1)


def strip(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        fail("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def spawn(name, args, env=None):
    log = open(os.path.join(work, name + ".log"), "w")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    procs.append((name, p))
    return p


def cleanup():
    """Idempotent: runs from fail()/skip(), at the end and from atexit."""
    global cleaned
    if cleaned:
        return
    cleaned = True
    for name, p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    procs.clear()
    subprocess.run(["ip", "link", "del", tap], capture_output=True)
    for shm in (table, table + ".status"):
        try:
            os.unlink("/dev/shm" + shm)
        except OSError:
            pass
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)
    if os.environ.get("SRTPO_KEEP_WORK"):
        print("work dir kept: " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)


# Whatever ends the test (an exception, meson's timeout sending SIGTERM) stops the daemons and
# phones by PID and removes the TAP, the table and the work directory.
atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def ctl(*args):
    r = subprocess.run([ctl_bin, "--socket", os.path.join(work, "cp.sock"), "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout


def wait_for(what, pred, seconds):
    """Polls pred() for up to `seconds`; `what` (a string, or a function giving one once the
    wait has failed) names what was awaited."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + (what() if callable(what) else what))


# ---- preconditions: baresip and a TAP device ----
if not shutil.which("baresip") or not os.path.exists("/usr/lib/baresip/modules/srtp.so"):
    fail("baresip (Debian baresip-core) is missing: scripts/install-deps.sh installs it")
why_not = tap_unavailable(tap)
if why_not:
    skip(why_not)


# ---- certificates (OpenSSL CLI): one CA, a certificate for srtpo-cp and one for the phones ----
def pki():
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    os.chdir(work)
    sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=srtpo-test-ca")
    for n in ("cp", "ua"):
        sh("openssl", "req", *ec, "-keyout", n + ".key", "-out", n + ".csr", "-subj", "/CN=localhost")
        with open(n + ".ext", "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        sh("openssl", "x509", "-req", "-in", n + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
           "-extfile", n + ".ext", "-out", n + ".crt")
        os.chmod(n + ".key", 0o600)
    with open("ua.pem", "w") as f:
        f.write(open("ua.crt").read() + open("ua.key").read())
    os.chmod("ua.pem", 0o600)


def baresip_config(name, user, sip_port, rtp_port, proxy=None):
    """A headless baresip 1.0 config: sine source, aubridge as a null player, SDES mandatory;
    requests go through `proxy` (srtpo-cp) when given."""
    d = os.path.join(work, name)
    os.makedirs(d)
    with open(os.path.join(d, "config"), "w") as f:
        f.write("""poll_method\tepoll
sip_listen\t127.0.0.1:{sip}
sip_certificate\t{work}/ua.pem
sip_cafile\t{work}/ca.crt
net_interface\t{ip}
call_local_timeout\t20
call_max_calls\t4
audio_player\taubridge,nil
audio_source\tausine,440
ausrc_srate\t48000
ausrc_channels\t2
auplay_srate\t48000
audio_alert\taubridge,nil
rtp_ports\t{rtp}-{rtp_end}
rtcp_mux\tno
rtp_stats\tyes
module_path\t/usr/lib/baresip/modules
module\tg711.so
module\tausine.so
module\taubridge.so
module\tsrtp.so
module_tmp\tuuid.so
module_tmp\taccount.so
module_app\tmenu.so
""".format(sip=sip_port, work=work, ip=host_ip, rtp=rtp_port, rtp_end=rtp_port + 9))
    with open(os.path.join(d, "accounts"), "w") as f:
        outbound = ';outbound="%s"' % proxy if proxy else ""
        f.write("<sip:%s@127.0.0.1;transport=tls>;regint=0;answermode=auto;audio_codecs=PCMU;mediaenc=srtp-mand%s\n"
                % (user, outbound))
    open(os.path.join(d, "contacts"), "w").close()
    return d


def cp_config():
    path = os.path.join(work, "cp.toml")
    with open(path, "w") as f:
        f.write("""[media]
address = "{engine}"
port_min = {pmin}
port_max = {pmax}

[sip]
user_agent = "srtpo-cp"
[[sip.listen]]
transport = "tls"
address = "127.0.0.1"
port = {tls}
[sip.tls]
cert = "{w}/cp.crt"
key = "{w}/cp.key"
ca = "{w}/ca.crt"
[[sip.route]]
domain = "bob.test"
next_hop = "sip:127.0.0.1:{bob};transport=tls"
a_keying = "sdes"
b_keying = "sdes"
b_suites = ["{b_suite}"]
""".format(engine=engine_ip, pmin=MEDIA_MIN, pmax=MEDIA_MAX, tls=CP_TLS, w=work, bob=BOB_SIP + 1, b_suite=B_SUITE))
    return path


t0 = time.time()
pki()

# srtpo-cp: the single writer of the session table, SIP/TLS B2BUA.
spawn("cp", [cp_bin, "--config", cp_config(), "--table", table, "--socket", os.path.join(work, "cp.sock"), "--capacity", "64"])
wait_for("srtpo-cp's control socket", lambda: procs[0][1].poll() is None and ctl("health")[0] == 0, 10)

# srtpo-pmd: port 0 is the TAP, flows from the table, no exception port (nothing but media here).
pmd = spawn("pmd", [pmd_bin, "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--file-prefix=" + prefix, "-l", "0",
                    "--log-level=warning", "--no-telemetry", "--vdev=net_tap0,iface=" + tap,
                    "--", "--table", table, "--no-exception", "--json"])
for _ in range(200):
    if os.path.exists("/sys/class/net/" + tap) or pmd.poll() is not None:
        break
    time.sleep(0.05)
if pmd.poll() is not None:
    out = open(os.path.join(work, "pmd.log")).read()
    if "tap" in out.lower() and ("error" in out.lower() or "fail" in out.lower()):
        skip("net_tap could not start: " + out.strip().splitlines()[-1])
    fail("srtpo-pmd exited at start")
if not os.path.exists("/sys/class/net/" + tap):
    fail("srtpo-pmd did not create " + tap)
sh("ip", "addr", "add", host_ip + "/24", "dev", tap)
sh("ip", "link", "set", tap, "up")
tap_mac = open("/sys/class/net/%s/address" % tap).read().strip()
sh("ip", "neigh", "replace", engine_ip, "lladdr", tap_mac, "dev", tap, "nud", "permanent")

alice = baresip_config("alice", "alice", ALICE_SIP, ALICE_RTP, "sip:127.0.0.1:%d;transport=tls" % CP_TLS)
bob = baresip_config("bob", "bob", BOB_SIP, BOB_RTP)
env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
bob_p = spawn("bob", ["timeout", "25", "baresip", "-f", bob, "-t", str(CALL_SECONDS + 4)], env=env)
time.sleep(0.5)
alice_p = spawn("alice", ["timeout", "25", "baresip", "-f", alice, "-e", "/dial sip:bob@bob.test",
                          "-t", str(CALL_SECONDS + 2)], env=env)

# While the call is up: its flows are in the table (one per direction; each also carries the
# RTCP on port + 1, rtcp_mux is off).
flows_during = 0


def call_flows():
    global flows_during
    rc, out = ctl("flow", "list")
    if rc == 0:
        flows_during = json.loads(out).get("count", 0)
    return flows_during >= 2


wait_for("the call's flows in the session table", call_flows, 10)

# The two flows the call installed: each matches an engine port, re-encrypts into the other
# leg's suite and sends to a phone's RTP port on the TAP's host address.
_, listed = ctl("flow", "list")
flows = json.loads(listed)["flows"]
want = {("AES_CM_128_HMAC_SHA1_80", B_SUITE, BOB_RTP), (B_SUITE, "AES_CM_128_HMAC_SHA1_80", ALICE_RTP)}
got = set()
for f in flows:
    to_ip, to_port = f["send_to"].rsplit(":", 1)
    if f["action"] != "transcrypt" or not f["match"].startswith(engine_ip + ":") or to_ip != host_ip:
        fail("unexpected flow %s" % f)
    got.add((f["in"]["suite"], f["out"]["suite"], int(to_port) // 100 * 100))
if len(flows) != 2 or got != want:
    fail("the call's flows are %s, want %s" % (sorted(got), sorted(want)))

# The pmd's per-flow counters (its status region, `keying-ctl stats`) late in the call: each
# direction's flow has carried packets and none failed authentication or the replay check.
live = {}


def both_ways():
    rc, out = ctl("stats")
    if rc != 0:
        return False
    j = json.loads(out)
    live.update({f["match"]: f["live"] for f in j["flows"] if f.get("live")})
    return len(live) == 2 and all(l["packets"] >= 120 for l in live.values())


wait_for(lambda: "both flows to carry packets (%s)" % live, both_ways, CALL_SECONDS + 1)
for match, l in live.items():
    if l["auth_fail"] or l["replay_drop"]:
        fail("flow %s: %d authentication failures, %d replay drops" % (match, l["auth_fail"], l["replay_drop"]))
print("pmd per flow: " + ", ".join("%s %d packets" % (m, l["packets"]) for m, l in sorted(live.items())))

rc_alice = alice_p.wait(timeout=30)
rc_bob = bob_p.wait(timeout=30)

# After the hang-up (alice quits -> BYE): no flow and no call left.
flows_after = calls_after = None


def no_flows():
    global flows_after, calls_after
    rc, out = ctl("flow", "list")
    flows_after = json.loads(out).get("count") if rc == 0 else None
    rc, out = ctl("call", "list")
    calls_after = json.loads(out).get("count") if rc == 0 else None
    return flows_after == 0 and calls_after == 0


wait_for(lambda: "the call and its flows to go after the hang-up (%s flows, %s calls)" % (flows_after, calls_after), no_flows, 5)

pmd.send_signal(signal.SIGTERM)
try:
    pmd.wait(timeout=10)
except subprocess.TimeoutExpired:
    fail("srtpo-pmd did not stop on SIGTERM")
pmd_out = open(os.path.join(work, "pmd.log")).read()
stats = [json.loads(l) for l in pmd_out.splitlines() if l.startswith("{")]
if pmd.returncode != 0 or not stats:
    fail("srtpo-pmd exited %s without its final stats" % pmd.returncode)
st = stats[-1]


def rtp_stats(log):
    """baresip's rtp_stats block at the call's end: (rx packets, rx errors) of the audio stream."""
    rx = re.search(r"^packets:\s+\d+\s+(\d+)", log, re.M)
    err = re.search(r"^errors:\s+(\d+)\s+(\d+)", log, re.M)
    return (int(rx.group(1)) if rx else None, int(err.group(1)) + int(err.group(2)) if err else None)


problems = []
report = {}
for name, rc in (("alice", rc_alice), ("bob", rc_bob)):
    log = strip(open(os.path.join(work, name + ".log"), errors="replace").read())
    suite = re.findall(r"SRTP is Enabled \(cryptosuite=([A-Z0-9_]+)\)", log)
    rx, err = rtp_stats(log)
    report[name] = {"suite": suite[:1], "rx": rx, "errors": err}
    if rc != 0:
        problems.append("%s: baresip exited %s (124: killed by its timeout)" % (name, rc))
    if "Call established" not in log:
        problems.append(name + ": the call was not established")
    if rx is None or rx < 50:
        problems.append("%s: received %s RTP packets (want >= 50)" % (name, rx))
    if err != 0:
        problems.append("%s: %s RTP errors" % (name, err))
    # baresip names where its incoming RTP comes from: the engine, through the pmd.
    if not re.search(r"incoming rtp for 'audio' established, receiving from %s:\d+" % re.escape(engine_ip), log):
        problems.append(name + ": its RTP did not come from the engine " + engine_ip)
if report["alice"]["suite"] != ["AES_CM_128_HMAC_SHA1_80"]:
    problems.append("alice's leg: suite %s, want AES_CM_128_HMAC_SHA1_80" % report["alice"]["suite"])
if report["bob"]["suite"] != [B_SUITE]:
    problems.append("bob's leg: suite %s, want %s" % (report["bob"]["suite"], B_SUITE))
ok_pkts = st["status"].get("ok", 0) if isinstance(st["status"], dict) else 0
received = sum(report[n]["rx"] or 0 for n in ("alice", "bob"))
if st["tx"] < received or ok_pkts < received:
    problems.append("pmd: tx %s, ok %s, but the phones received %s RTP packets" % (st["tx"], ok_pkts, received))
print("alice: %s  bob: %s" % (report["alice"], report["bob"]))
print("pmd: rx %d tx %d rtp %d rtcp %d status %s drops %s" % (st["rx"], st["tx"], st["rtp"], st["rtcp"], st["status"], st["drops"]))
print("flows during the call %d, after the hang-up %s; baresip exit codes alice %s bob %s; %.1f s"
      % (flows_during, flows_after, rc_alice, rc_bob, time.time() - t0))
if problems:
    fail("; ".join(problems))
cleanup()
print("ok")
sys.exit(0)
